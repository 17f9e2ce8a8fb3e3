import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Packs many files into numbered shards (`cotar pack`), each a reproducible tar with its
/// index and at most a given size, plus a manifest mapping path ranges to shards.
///
/// Inputs are taken in bytewise path order and cut into consecutive runs, so every shard
/// holds a sorted, disjoint path range and ``CotarShardSet`` finds a path's shard by binary
/// search. A file is never split: a file that cannot fit in a shard even alone gets a shard
/// of its own, reported as a warning. Identical files within a shard are stored once (hard
/// links never cross shards). A shard's name holds a hash of its bytes
/// (`PREFIX-NNNNN-<16 hex>.tar.co`, ``shardName(stem:number:digests:digest:extension:)``), so
/// a name never gets different bytes. Shards are written into a staging directory and moved
/// into place only when all are complete, the manifest last: a failed run takes back the
/// files it moved (all but those the old manifest lists, which are the same bytes) and so
/// leaves an existing set as it was; with `overwrite`, after success, the old manifest's
/// shards that the new one does not list are removed.
public enum CotarPacker {
  /// Points of the procedure where a test can inject a failure (``Options/failpoint``).
  public enum Step: String, CaseIterable, Sendable {
    /// Every shard is complete in the staging directory; none is moved into place yet.
    case shardsStaged = "shards-staged"
    /// Every shard was moved into place; the manifest is not yet.
    case shardsPublished = "shards-published"
  }

  /// How to pack.
  public struct Options: Sendable {
    /// Largest shard size in bytes, index included (tar + index for sidecar shards).
    public var shardSize: UInt64
    /// Output prefix: shards are `PREFIX-00000-<hash>.tar.co`…, the manifest `PREFIX.manifest.json`.
    public var prefix: String
    /// Write `.tar.co` shards (index appended); otherwise `.tar` shards with `.tar.index` sidecars.
    public var combined = true
    /// Index build options.
    public var index = CotarIndexBuilder.Options()
    /// Replace existing outputs.
    public var overwrite = false
    /// Write a name table (SPEC §12) for each shard: inside a `.tar.co` shard, as
    /// `NAME.tar.names` beside a `.tar` shard, inside the `.tar.gz.index` of a gzip shard.
    public var names = true
    /// Write each shard as a cloud-friendly `.tar.gz` with its `.tar.gz.index` (SPEC §13.5);
    /// `nil`: uncompressed shards. Excludes `combined`.
    public var gzip: Gzip? = nil
    /// Called at each ``Step``; throwing there fails the run (exiting simulates a crash).
    public var failpoint: (@Sendable (Step) throws -> Void)? = nil

    /// How gzip shards are compressed.
    public struct Gzip: Sendable, Hashable {
      /// Uncompressed bytes per gzip member (64 KiB to 1 GiB).
      public var memberSize: Int
      /// zlib level, 1–9.
      public var level: Int32

      /// Creates gzip options.
      public init(memberSize: Int = GzipIndexFormat.defaultSpacing, level: Int32 = 6) {
        self.memberSize = memberSize
        self.level = level
      }
    }

    /// Creates options.
    public init(
      shardSize: UInt64, prefix: String, combined: Bool = true, index: CotarIndexBuilder.Options = .init(),
      overwrite: Bool = false
    ) {
      self.shardSize = shardSize
      self.prefix = prefix
      self.combined = combined
      var index = index
      // Automatic packing may raise the packing; reserve room for it in every shard's size
      // bound, but not so much that shards get many fewer files.
      if index.automaticPacking { index.automaticPackingLimit = min(index.automaticPackingLimit, index.packing + 100) }
      self.index = index
      self.overwrite = overwrite
    }

    /// The files written for shard `name` (`NAME.tar.co`; `NAME.tar`, its index and its table;
    /// or `NAME.tar.gz` and its `.tar.gz.index`, which holds the table).
    func files(ofShard name: String) -> [String] {
      if gzip != nil { return [name, name + GzipIndexFormat.sidecarSuffix] }
      return combined ? [name] : [name, name + ".index"] + (names ? [name + NameTableFormat.sidecarSuffix] : [])
    }

    /// The shard file's extension.
    var shardExtension: String { gzip != nil ? ".tar.gz" : combined ? ".tar.co" : ".tar" }
  }

  /// What packing produced.
  public struct Summary: Sendable {
    /// The manifest written.
    public var manifest: ShardManifest
    /// Path of the manifest file.
    public var manifestPath: String
    /// One per input whose shard, holding it alone, came out larger than the shard size
    /// (all the shard's files counted).
    public var warnings: [String]
    /// The smallest and largest packing (percent) the shards' indexes were built with.
    public var packingRange: ClosedRange<Double>? = nil
  }

  /// An upper bound of the bytes a run of inputs takes as one shard.
  struct SizeBound {
    var members: UInt64 = 0
    var indexed = 0
    /// Raw name-table column bytes, at most: per member its path, link target and 66 bytes
    /// of varints and kind (SPEC §12.4).
    var nameBytes: UInt64 = 0
    var longestPath = 0

    mutating func add(path: [UInt8], link: Int) {
      nameBytes += UInt64(path.count + 1 + link + 66)
      longestPath = max(longestPath, path.count + 1)
    }

    func total(options: Options) -> UInt64 {
      let slots = UInt64((Double(indexed) * options.index.largestPackingFactor).rounded(.up))
      let index = 16 + slots * 16 + (options.names ? namesBound : 0)
      let tar = members + 1024
      guard let gzip = options.gzip else { return tar + index }
      // Compressed at most as zlib's deflateBound for its default window and memory (any
      // level), plus the gzip header and trailer, per member; every member but the last
      // holds at least the member size. The .tar.gz.index adds its header and a point per
      // member at most (no windows).
      let gzipMembers = tar / UInt64(max(64 << 10, gzip.memberSize)) + 1
      let compressed = tar + (tar >> 12) + (tar >> 14) + (tar >> 25) + gzipMembers * 32
      return compressed + UInt64(GzipIndexFormat.headerSize) + gzipMembers * UInt64(GzipIndexFormat.pointSize) + index
    }

    /// The table at most: raw columns (zlib or stored, never larger), and per block its
    /// header, eight column headers and its block index entry, and the trailer. A block
    /// closes after 64 KiB of raw columns, so there are at most 1 + raw / 64 KiB blocks.
    var namesBound: UInt64 {
      let blocks = 1 + nameBytes / UInt64(NameTableFormat.targetBlockBytes)
      return nameBytes + blocks * UInt64(4 + 8 * 21 + 20 + longestPath) + 40
    }
  }

  /// Splits sorted inputs into shards whose size bound stays within the limit.
  ///
  /// - Returns: runs of inputs, and the numbers of the runs holding a single input whose
  ///   size bound alone exceeds the limit (a bound, not the size: ``pack(_:options:contentDigest:fileDigest:digest:progress:)``
  ///   warns only about those whose written shard really exceeds it).
  /// - Throws: `CotarError` `.invalidArgument` as ``TarMember/encodedSize()``.
  public static func plan(_ inputs: [TarInput], options: Options) throws -> (shards: [[TarInput]], alone: Set<Int>) {
    var longestInGroup: [GroupKey: [UInt8]] = [:]
    var groupCount: [GroupKey: Int] = [:]
    for input in inputs {
      guard case .file(let size, let executable) = input.kind, size > 0 else { continue }
      let key = GroupKey(size: size, executable: executable)
      groupCount[key, default: 0] += 1
      if input.archivePath.count > (longestInGroup[key]?.count ?? -1) { longestInGroup[key] = input.archivePath }
    }
    var shards: [[TarInput]] = []
    var alone: Set<Int> = []
    var current: [TarInput] = []
    var bound = SizeBound()
    for input in inputs {
      var cost = try input.member.encodedSize()
      if case .file(let size, let executable) = input.kind, size > 0, (groupCount[GroupKey(size: size, executable: executable)] ?? 0) > 1 {
        // It may become a hard link; bound its header by the longest possible target (plus a
        // non-UTF-8 byte, so a PAX hdrcharset record is counted too).
        let target = (longestInGroup[GroupKey(size: size, executable: executable)] ?? []) + [0xFF]
        let link = TarMember(pathBytes: input.archivePath, kind: .hardLink, mode: 0o644, linkTargetBytes: target)
        cost = max(cost, try link.encodedSize())
      }
      let indexed = if case .file = input.kind { 1 } else { 0 }
      // A file becomes a hard link (with a link target in the name table) only when another
      // file has its size and execute bit.
      let link: Int =
        switch input.kind {
        case .symbolicLink(let target): target.count
        case .file(let size, let executable):
          (groupCount[GroupKey(size: size, executable: executable)] ?? 0) > 1
            ? (longestInGroup[GroupKey(size: size, executable: executable)]?.count ?? 0) + 1 : 0
        case .directory: 0
        }
      var single = SizeBound(members: cost, indexed: indexed)
      single.add(path: input.archivePath, link: link)
      if single.total(options: options) > options.shardSize {
        if !current.isEmpty { shards.append(current) }
        alone.insert(shards.count)
        shards.append([input])
        current = []
        bound = SizeBound()
        continue
      }
      var next = bound
      next.members += cost
      next.indexed += indexed
      next.add(path: input.archivePath, link: link)
      if !current.isEmpty && next.total(options: options) > options.shardSize {
        shards.append(current)
        current = []
        next = single
      }
      current.append(input)
      bound = next
    }
    if !current.isEmpty { shards.append(current) }
    return (shards, alone)
  }

  /// Packs `inputs` (sorted, as from ``TarInputCollector``) into shards and a manifest.
  ///
  /// - Parameters:
  ///   - inputs: what to pack.
  ///   - options: shard size, prefix, layout.
  ///   - contentDigest: content hash for dedupe within a shard; `nil` disables dedupe.
  ///   - fileDigest: lower-case hex SHA-256 of a written file (the manifest records it).
  ///   - digest: lower-case hex SHA-256 of bytes (names the shards, see
  ///     ``shardName(stem:number:digests:digest:extension:)``).
  ///   - progress: called after each member, counting across shards.
  /// - Returns: the manifest and warnings.
  /// - Throws: `CotarError` `.invalidArgument` for a zero shard size, no inputs, or gzip
  ///   with `combined` or a member size or level out of range, `.outputExists` (without
  ///   `overwrite`, for an existing manifest or shard file), `.io`, index build errors, or
  ///   what the digests or the failpoint throw.
  public static func pack(
    _ inputs: [TarInput], options: Options, contentDigest: ((TarInput) throws -> [UInt8])?,
    fileDigest: (String) throws -> String, digest: ([UInt8]) -> String, progress: ((WriteProgress) -> Void)? = nil
  ) async throws -> Summary {
    guard options.shardSize > 0 else { throw CotarError(.invalidArgument, "the shard size must be more than 0 bytes") }
    guard !inputs.isEmpty else { throw CotarError(.invalidArgument, "nothing to pack") }
    if let gzip = options.gzip {
      guard !options.combined else {
        throw CotarError(.invalidArgument, "gzip shards keep their index beside them (.tar.gz.index); they cannot be .tar.co")
      }
      guard (64 << 10)...(1 << 30) ~= gzip.memberSize, (1...9).contains(gzip.level) else {
        throw CotarError(
          .invalidArgument, "the gzip member size must be from 64 KiB to 1 GiB and the level from 1 to 9 (got \(gzip.memberSize), \(gzip.level))")
      }
    }
    let (runs, alone) = try plan(inputs, options: options)
    var warnings: [String] = []
    let directory = options.prefix.lastIndex(of: "/").map { String(options.prefix[...$0]) } ?? ""
    let stem = options.prefix.lastIndex(of: "/").map { String(options.prefix[options.prefix.index(after: $0)...]) } ?? options.prefix
    guard !stem.isEmpty else { throw CotarError(.invalidArgument, "the output prefix needs a file name part, such as out/shards") }
    try makeDirectories(directory)
    let manifestPath = options.prefix + ".manifest.json"
    // The shard names are known once the shards are written; the manifest is checked now, the
    // shard files again before they are moved into place.
    if !options.overwrite, access(manifestPath, F_OK) == 0 {
      throw CotarError(.outputExists, "output exists; pass --force to replace it", source: manifestPath)
    }
    let inputIdentities = Set(inputs.compactMap(\.identity))
    try OutputGuard.refuse(destination: manifestPath, sameAs: inputIdentities)
    // With --force: the old manifest's files are kept if this run fails (a file it lists that
    // this run also writes has the same name, so the same bytes), and those the new manifest
    // does not list are removed once it is in place.
    let oldShardFiles = options.overwrite ? try await oldManifestFiles(manifestPath, directory: directory) : []
    // Shards are written into a staging directory beside the outputs and moved into place
    // only when all of them are complete, then the manifest is published.
    removeStaleStagingDirectories(directory: directory, stem: stem)
    let staging = try makeStagingDirectory(directory + "." + stem + ".staging-")
    // Held while this run lives: a later run removes only staging directories nobody holds.
    let stagingLock = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if stagingLock >= 0 { _ = Syscall.tryLockExclusive(stagingLock) }
    defer {
      removeTree(staging)
      if stagingLock >= 0 { close(stagingLock) }
    }
    var shards: [ShardManifest.Shard] = []
    var packingRange: ClosedRange<Double>?
    var done = 0
    var doneBytes: UInt64 = 0
    for (number, run) in runs.enumerated() {
      try Task.checkCancellation()
      // Written under its number, renamed in the staging directory once its hash is known.
      let draft = stem + "-" + fiveDigits(number) + options.shardExtension
      let path = staging + "/" + draft
      let plan = try TarPlan.plan(run, digest: contentDigest)
      var write = ReproducibleTar.Options(
        overwrite: false, combined: options.combined, sidecar: !options.combined, index: options.index)
      write.names = options.names
      let base = done
      let baseBytes = doneBytes
      let report: (WriteProgress) -> Void = { step in
        progress?(WriteProgress(members: base + step.members, totalMembers: inputs.count, bytes: baseBytes + step.bytes))
      }
      let summary: ReproducibleTar.Summary
      if let gzip = options.gzip {
        summary = try await ReproducibleTar.writeGzip(
          plan, to: path, options: write, memberSize: gzip.memberSize, level: gzip.level, progress: report
        ).summary
      } else {
        summary = try await ReproducibleTar.write(plan, to: path, options: write, progress: report)
      }
      done += run.count
      doneBytes += summary.dataBytes
      if let packing = summary.index?.packing {
        packingRange = packingRange.map { min($0.lowerBound, packing)...max($0.upperBound, packing) } ?? packing...packing
      }
      let indexSize: UInt64
      if options.gzip != nil {
        indexSize = try await FileSource(path: path + GzipIndexFormat.sidecarSuffix).size()
      } else {
        indexSize = options.combined ? 0 : (summary.index.map { UInt64(16 + 16 * $0.slots) } ?? 0)
      }
      let total = summary.outputBytes + indexSize
      if total > options.shardSize && run.count > 1 {
        throw CotarError(
          .limitExceeded, "internal error: shard \(draft) came out at \(total) bytes, over the limit of \(options.shardSize)",
          source: directory + draft)
      }
      if alone.contains(number), let input = run.first {
        // Its size bound exceeded the limit; warn only when the files written really do.
        let files = options.files(ofShard: draft)
        var written: UInt64 = 0
        for file in files { written += try await FileSource(path: staging + "/" + file).size() }
        if written > options.shardSize {
          let kinds = files.map { options.shardExtension + $0.dropFirst(draft.count) }
          let listed = kinds.count == 1 ? kinds[0] : kinds.dropLast().joined(separator: ", ") + " and " + (kinds.last ?? "")
          warnings.append(
            "'\(input.path)' alone makes a shard of \(written) bytes (\(listed)), more than the shard size \(options.shardSize); it has a shard of its own")
        }
      }
      let digests = try options.files(ofShard: draft).map { try fileDigest(staging + "/" + $0) }
      let name = shardName(stem: stem, number: number, digests: digests, digest: digest, extension: options.shardExtension)
      for (from, to) in zip(options.files(ofShard: draft), options.files(ofShard: name)) {
        try moveIntoPlace(staging + "/" + from, to: staging + "/" + to, overwrite: false, what: "the shard")
      }
      let indexName = options.gzip != nil ? name + GzipIndexFormat.sidecarSuffix : options.combined ? nil : name + ".index"
      shards.append(
        ShardManifest.Shard(
          name: name, index: indexName, size: summary.outputBytes, indexSize: indexSize,
          entries: UInt64(summary.index?.files ?? 0), members: UInt64(summary.members), sha256: digests[0],
          indexSHA256: indexName == nil ? nil : digests[1],
          firstPath: run.first?.archivePath ?? [], lastPath: run.last?.archivePath ?? [],
          compression: options.gzip != nil ? ShardManifest.Shard.gzip : nil,
          uncompressedSize: options.gzip != nil ? summary.tarBytes : nil))
    }
    try options.failpoint?(.shardsStaged)
    let files = shards.flatMap { options.files(ofShard: $0.name) }
    if !options.overwrite, let existing = files.first(where: { access(directory + $0, F_OK) == 0 }) {
      throw CotarError(.outputExists, "output exists; pass --force to replace it", source: directory + existing)
    }
    for file in files { try OutputGuard.refuse(destination: directory + file, sameAs: inputIdentities) }
    let manifest = ShardManifest(shardSizeLimit: options.shardSize, shards: shards)
    let writer = try AtomicFileWriter(destination: manifestPath, overwrite: options.overwrite)
    try writer.write(manifest.serialized())
    let listed = Set(oldShardFiles)
    var moved: [String] = []
    do {
      for file in files {
        try publish(staging + "/" + file, to: directory + file, overwrite: options.overwrite)
        moved.append(directory + file)
      }
      syncParentDirectory(of: directory + (files.first ?? ""))
      try options.failpoint?(.shardsPublished)
      try writer.commit()
    } catch {
      // Take back what this run moved into place, except the old manifest's files: the
      // existing set stays as it was, and nothing new is left.
      for path in moved where !listed.contains(path) { try? Syscall.unlink(path) }
      throw error
    }
    let kept = Set(files.map { directory + $0 })
    for stale in oldShardFiles where !kept.contains(stale) { try? Syscall.unlink(stale) }
    return Summary(manifest: manifest, manifestPath: manifestPath, warnings: warnings, packingRange: packingRange)
  }

  /// The name of shard `number`: `STEM-NNNNN-H` + `extension`, where `H` is the first 16 hex
  /// digits of the SHA-256 of the shard's files' lower-case hex SHA-256 `digests`, each
  /// followed by a line feed, in the order of ``Options/files(ofShard:)`` (the shard file,
  /// then its index, then its name table). The same bytes give the same name, and a name is
  /// never given other bytes (SPEC §9.3).
  ///
  /// - Parameters:
  ///   - stem: the prefix's file name part.
  ///   - number: the shard's position, from 0 (five digits at least).
  ///   - digests: the files' lower-case hex SHA-256.
  ///   - digest: lower-case hex SHA-256 of bytes.
  ///   - extension: `.tar.co`, `.tar` or `.tar.gz`.
  public static func shardName(
    stem: String, number: Int, digests: [String], digest: ([UInt8]) -> String, extension: String
  ) -> String {
    let hash = digest(Array(digests.map { $0 + "\n" }.joined().utf8)).prefix(16)
    return stem + "-" + fiveDigits(number) + "-" + hash + `extension`
  }

  /// `number` in decimal, zero-padded to five digits.
  static func fiveDigits(_ number: Int) -> String {
    let digits = String(number)
    return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
  }

  /// The shard (and sidecar) paths an existing manifest lists: none when there is no
  /// manifest or it is not one a reader accepts.
  ///
  /// - Throws: `CotarError` `.io` when it exists but cannot be read: a run that does not know
  ///   which files the old set needs could not keep them if it fails.
  static func oldManifestFiles(_ manifestPath: String, directory: String) async throws -> [String] {
    (try await filesListed { try FileSource(path: manifestPath) } ?? []).map { directory + $0 }
  }

  /// The file names the manifest read from `manifest()` lists (shards, indexes, name tables:
  /// plain names beside it, as the manifest parser requires), `nil` when there is no manifest
  /// (`.notFound`), and none when it is not one a reader accepts (malformed, or over
  /// ``CotarShardSet/maximumManifestBytes``). For `pack --force`, locally and to S3.
  ///
  /// - Throws: what opening or reading the manifest throws, other than the cases above.
  package static func filesListed(byManifest manifest: () throws -> any RangeSource) async throws -> [String]? {
    do {
      let set = try await CotarShardSet.open(manifest: try manifest()) { name in
        throw CotarError(.invalidArgument, "a shard is not opened here", source: name)
      }
      return set.manifest.shards.flatMap(\.files)
    } catch let error as CotarError where error.code == .notFound {
      return nil
    } catch let error as CotarError where error.code == .invalidArgument || error.code == .limitExceeded {
      return []
    }
  }

  /// Moves a finished shard into place (`rename`, or `link` + `unlink` when an existing
  /// file must not be replaced).
  static func publish(_ from: String, to destination: String, overwrite: Bool) throws {
    try moveIntoPlace(from, to: destination, overwrite: overwrite, what: "the shard")
  }

  /// Creates a fresh directory `PREFIX` + random suffix (`mkdtemp`), which SIGINT and SIGTERM
  /// remove with the files in it until ``removeTree(_:)`` removes it (README "Outputs").
  package static func makeStagingDirectory(_ prefix: String) throws -> String {
    let staging: String
    do {
      staging = try Syscall.makeTemporaryDirectory(prefix + "XXXXXX")
    } catch {
      throw error.cotarError("cannot create a staging directory in \(directoryPart(of: prefix))", source: prefix + "XXXXXX")
    }
    PendingTemporaryFiles.addDirectory(staging)
    return staging
  }

  /// The directory part of `prefix` (`.` when it has none), for messages.
  private static func directoryPart(of prefix: String) -> String {
    guard let slash = prefix.lastIndex(of: "/") else { return "." }
    return slash == prefix.startIndex ? "/" : String(prefix[..<slash])
  }

  /// Removes `.STEM.staging-XXXXXX` directories left by a killed run: those no live run holds
  /// locked (`flock`) and not modified in the last 2 seconds.
  static func removeStaleStagingDirectories(directory: String, stem: String) {
    let prefix = Array(".\(stem).staging-".utf8)
    guard let names = try? Syscall.directoryEntries(bytes: Array((directory.isEmpty ? "." : directory).utf8)) else {
      return
    }
    let now = Int64(time(nil))
    for name in names where name.count == prefix.count + 6 && name.starts(with: prefix) {
      let path = directory + String(decoding: name, as: UTF8.self)
      guard let fd = try? Syscall.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else { continue }
      defer { Syscall.close(fd) }
      guard let info = try? Syscall.status(of: fd), now - info.modificationTime.seconds >= 2,
        Syscall.tryLockExclusive(fd)
      else { continue }
      removeTree(path)
    }
  }

  /// Removes the files in a staging directory, then the directory (it holds no subdirectories).
  package static func removeTree(_ path: String) {
    PendingTemporaryFiles.removeFlatDirectory(path)
    PendingTemporaryFiles.removeDirectory(path)
  }

  /// Creates `path` and its missing parents (`mkdir -p`).
  static func makeDirectories(_ path: String) throws {
    do {
      try Syscall.makeDirectories(path)
    } catch {
      throw error.cotarError("cannot create directory", source: path)
    }
  }

  private struct GroupKey: Hashable {
    var size: UInt64
    var executable: Bool
  }
}
