/// Builds a Cotar v2 index byte-identical to linz/cotar's `@cotar/builder` (SPEC.md §6).
///
/// Feed it the members of a tar in archive order with ``add(_:)``, then call
/// ``build(pathAt:)``. It keeps a 24-byte record per indexed entry and no path strings;
/// paths are re-read from the archive only to tell a duplicate from a hash collision.
public struct CotarIndexBuilder: Sendable {
  /// Build options, with the defaults of the `cotar` CLI.
  public struct Options: Sendable, Hashable {
    /// Extra slots in percent: `slots = ceil(files × (1 + packing / 100))`. Default 25.
    ///
    /// With ``automaticPacking`` this is the first packing tried.
    public var packing: Double = 25
    /// Longest probe run allowed before the build fails. Default 50.
    public var maxSearch: Int = 50
    /// Whether the builder may raise ``packing`` in steps of ``automaticPackingStep`` until
    /// every probe run is within ``maxSearch`` (SPEC §7). `false` keeps the packing fixed,
    /// and with it byte identity with linz/cotar's builder; `true` gives the same bytes
    /// whenever the first packing already fits.
    public var automaticPacking: Bool = true

    /// Percentage points added to the packing per automatic step.
    public static let automaticPackingStep: Double = 5
    /// Highest packing automatic packing tries before giving up (default 1000). `cotar pack`
    /// lowers it so that a shard's size bound holds whatever packing is chosen.
    public var automaticPackingLimit: Double = 1000
    /// Whether a file the v2 format cannot describe (4 GiB or more, or data past 2 TiB) is
    /// left out of the index instead of failing the build (default `false`: `cotar index`
    /// and `create` refuse it, SPEC §4). An index built this way serves only in memory (a
    /// plain tar read without an index); the files left out are in
    /// ``CotarIndexBuilder/beyondFormat`` and, with their real offset and size, in the name table.
    public var leavesOutEntriesBeyondFormat: Bool = false

    /// Creates options.
    ///
    /// - Parameters:
    ///   - packing: a fixed packing in percent, or `nil` (the default) for automatic packing
    ///     starting at 25.
    ///   - maxSearch: the longest probe run allowed.
    public init(packing: Double? = nil, maxSearch: Int = 50) {
      self.packing = packing ?? 25
      self.maxSearch = maxSearch
      self.automaticPacking = packing == nil
    }

    /// The multiplier applied to the file count, computed as linz/cotar does: `1 + packing / 100`.
    public var packingFactor: Double { 1 + packing / 100 }

    /// The largest multiplier a build with these options can use: ``packingFactor``, or with
    /// automatic packing the one of ``automaticPackingLimit``.
    public var largestPackingFactor: Double { automaticPacking ? 1 + max(packing, automaticPackingLimit) / 100 : packingFactor }
  }

  /// An indexed entry as the builder keeps it (24 bytes).
  struct PendingRecord {
    var hash: UInt64
    var blockOffset: UInt32
    var size: UInt32
    /// Offset of the member's first header, to re-read its path if needed.
    var headerOffset: UInt64
  }

  /// The options in use.
  public let options: Options
  private var records: [PendingRecord] = []
  /// Latest record index per path hash; created at the first hard link only.
  private var latestByHash: [UInt64: Int]?
  /// Hashes of paths whose latest member is a symbolic link (or a hard link to one).
  private var symlinkHashes: Set<UInt64> = []
  /// Members that are not indexed (symlinks, directories, devices, …), in archive order: each
  /// removes the earlier records of its path when the index is built (last wins, SPEC §6).
  private var shadows: [Shadow] = []

  /// A member that is not indexed: the hash of its path and where its header is.
  struct Shadow {
    var hash: UInt64
    var headerOffset: UInt64
  }
  /// Files (and hard links to them) left out because the v2 format cannot describe them,
  /// with ``Options/leavesOutEntriesBeyondFormat``: path and data, in archive order.
  public private(set) var beyondFormat: [(pathBytes: [UInt8], entry: CotarEntry)] = []
  /// Hashes of the paths in ``beyondFormat`` (to leave out hard links to them as well).
  private var beyondFormatHashes: Set<UInt64> = []
  /// Hard links skipped because their target is a symbolic link (see ``add(_:)``).
  public private(set) var hardLinksToSymlinks = 0

  /// Creates an empty builder.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when `packing` is negative or not finite, or
  ///   `maxSearch` is negative.
  public init(options: Options = Options()) throws(CotarError) {
    guard options.packing.isFinite, options.packing >= 0 else {
      throw CotarError(.invalidArgument, "packing must be a finite number ≥ 0 (got \(options.packing))")
    }
    guard options.maxSearch >= 0 else {
      throw CotarError(.invalidArgument, "max search must be ≥ 0 (got \(options.maxSearch))")
    }
    self.options = options
  }

  /// Number of indexed members added so far (before duplicates are removed).
  public var addedCount: Int { records.count }

  /// Adds a tar member. Files and hard links are indexed; a member of any other kind is not,
  /// but it replaces the earlier members of its path (last wins, SPEC §6): when the index is
  /// built, the records of that path added before it are dropped.
  ///
  /// A hard link takes the data offset and size of the latest earlier member with its target
  /// path, spelled exactly as the link name or, failing that, with `.` and empty components
  /// removed, with or without a leading `./` (``LinkTargetSpelling``, as GNU tar's link(2)
  /// sees it). A hard link whose target is a symbolic link (GNU tar writes one for a hard link to
  /// a symlink) has no data: it is not indexed, replaces its path like a symlink, and is
  /// counted in ``hardLinksToSymlinks``.
  /// - Throws: `CotarError` `.invalidTar` for a hard link whose target's latest earlier member
  ///   is not a file or hard link (or that does not appear earlier),
  ///   `.limitExceeded` for a data offset ≥ 2 TiB or a size ≥ 4 GiB, `.hashCollision` for a
  ///   path whose hash is 0 (reserved for empty slots).
  public mutating func add(_ entry: TarEntry) throws(CotarError) {
    let hash = PathHash.fnv1a64(bytes: entry.pathBytes)
    guard entry.kind.isIndexed else {
      shadow(hash, isSymlink: entry.kind == .symbolicLink, headerOffset: entry.headerOffset)
      return
    }
    if !symlinkHashes.isEmpty {
      if entry.kind == .hardLink, linksToSymlink(entry.linkTargetBytes ?? []) {
        hardLinksToSymlinks += 1
        shadow(hash, isSymlink: true, headerOffset: entry.headerOffset)
        return
      }
      symlinkHashes.remove(hash)
    }
    guard hash != 0 else {
      throw CotarError(
        .hashCollision, "path hashes to 0, which the format reserves for empty slots; rename it",
        offset: entry.headerOffset, path: entry.path)
    }
    let record: PendingRecord
    if entry.kind == .hardLink, !beyondFormatHashes.isEmpty {
      // A hard link to a file left out is left out with it (same data).
      let spellings = LinkTargetSpelling.spellings(of: entry.linkTargetBytes ?? [])
      if latestRecord(forLinkName: entry.linkTargetBytes ?? []) == nil,
        let target = beyondFormat.last(where: { spellings.contains($0.pathBytes) })
      {
        leaveOut(entry, data: target.entry, hash: hash)
        return
      }
    }
    if entry.kind == .hardLink {
      let target = entry.linkTargetBytes ?? []
      guard let targetIndex = latestRecord(forLinkName: target) else {
        throw CotarError(
          .invalidTar,
          "hard link to '\(String(decoding: target, as: UTF8.self))', which does not appear earlier in the archive as a file (or was replaced by a member of another kind)",
          offset: entry.headerOffset, path: entry.path)
      }
      let targetRecord = records[targetIndex]
      record = PendingRecord(
        hash: hash, blockOffset: targetRecord.blockOffset, size: targetRecord.size,
        headerOffset: entry.headerOffset)
    } else {
      if options.leavesOutEntriesBeyondFormat,
        entry.size > CotarFormat.maximumEntrySize || entry.dataOffset / CotarFormat.blockSize > UInt64(UInt32.max)
      {
        leaveOut(entry, data: CotarEntry(offset: entry.dataOffset, size: entry.size), hash: hash)
        return
      }
      guard entry.dataOffset.isMultiple(of: CotarFormat.blockSize),
        let block = UInt32(exactly: entry.dataOffset / CotarFormat.blockSize)
      else {
        throw CotarError(
          .limitExceeded,
          "data offset \(entry.dataOffset) is beyond what a v2 index can address (2 TiB); split the archive (cotar pack)",
          offset: entry.headerOffset, path: entry.path)
      }
      guard let size = UInt32(exactly: entry.size) else {
        throw CotarError(
          .limitExceeded, "entry of \(entry.size) bytes is larger than a v2 index can describe (4 GiB − 1)",
          offset: entry.headerOffset, path: entry.path)
      }
      record = PendingRecord(hash: hash, blockOffset: block, size: size, headerOffset: entry.headerOffset)
    }
    records.append(record)
    latestByHash?[hash] = records.count - 1
  }

  /// The latest record a hard link with link name `linkName` takes its data from: that of the
  /// first of ``LinkTargetSpelling/spellings(of:)`` (the exact name, then `.` and empty
  /// components removed, then with a leading `./`) whose latest member is a file or hard
  /// link; `nil` when there is none. Builds ``latestByHash`` at the first hard link.
  private mutating func latestRecord(forLinkName linkName: [UInt8]) -> Int? {
    if latestByHash == nil { latestByHash = Self.latestIndex(of: records, shadows: shadows) }
    if let found = latestByHash?[PathHash.fnv1a64(bytes: linkName)] { return found }
    for spelling in LinkTargetSpelling.spellings(of: linkName).dropFirst() {
      if let found = latestByHash?[PathHash.fnv1a64(bytes: spelling)] { return found }
    }
    return nil
  }

  /// Whether a hard link with link name `linkName` is a hard link to a symbolic link: the first
  /// of its spellings (as in ``latestRecord(forLinkName:)``) that names a member names a
  /// symbolic link (or a hard link to one).
  private mutating func linksToSymlink(_ linkName: [UInt8]) -> Bool {
    if latestByHash == nil { latestByHash = Self.latestIndex(of: records, shadows: shadows) }
    for spelling in LinkTargetSpelling.spellings(of: linkName) {
      let hash = PathHash.fnv1a64(bytes: spelling)
      if symlinkHashes.contains(hash) { return true }
      if latestByHash?[hash] != nil { return false }
    }
    return false
  }

  /// Leaves `entry` out of the index (``Options/leavesOutEntriesBeyondFormat``): it replaces
  /// the earlier records of its path, and is kept in ``beyondFormat`` with `data`.
  private mutating func leaveOut(_ entry: TarEntry, data: CotarEntry, hash: UInt64) {
    shadow(hash, isSymlink: false, headerOffset: entry.headerOffset)
    symlinkHashes.remove(hash)
    beyondFormat.append((entry.pathBytes, data))
    beyondFormatHashes.insert(hash)
  }

  /// ``add(_:)`` for a member the scanner parsed in place (``TarWalker/stepPlain(_:)``).
  ///
  /// - Returns: `true` when the member was taken exactly as ``add(_:)`` would take it; `false`,
  ///   with the builder unchanged, when ``add(_:)`` would throw, so that the caller runs the
  ///   general path, which throws the error with the member's path.
  @inline(__always)
  mutating func addPlain(_ member: TarWalker.PlainMember) -> Bool {
    let hash = member.pathHash
    switch member.kind {
    case .file:
      guard hash != 0, member.dataOffset.isMultiple(of: CotarFormat.blockSize),
        let block = UInt32(exactly: member.dataOffset / CotarFormat.blockSize),
        let size = UInt32(exactly: member.size)
      else { return false }
      if !symlinkHashes.isEmpty { symlinkHashes.remove(hash) }
      records.append(PendingRecord(hash: hash, blockOffset: block, size: size, headerOffset: member.headerOffset))
      latestByHash?[hash] = records.count - 1
    case .symbolicLink:
      shadow(hash, isSymlink: true, headerOffset: member.headerOffset)
    default:
      shadow(hash, isSymlink: false, headerOffset: member.headerOffset)
    }
    return true
  }

  /// Records a member that is not indexed at the path with hash `hash`: it replaces the
  /// earlier records of that path (dropped at ``build(pathAt:)``) and, for hard links, the
  /// path's earlier target. An append to an array, no per-member allocation or hashing.
  ///
  /// A directory, device or other kind does not take the path out of ``symlinkHashes``
  /// (that would cost a set operation per directory in every tree with a symlink): a later
  /// hard link to a symlink's path stays a link to a symlink until a file or hard link
  /// replaces it (SPEC §6). Either way it is not indexed.
  @inline(__always)
  private mutating func shadow(_ hash: UInt64, isSymlink: Bool, headerOffset: UInt64) {
    if isSymlink { symlinkHashes.insert(hash) }
    shadows.append(Shadow(hash: hash, headerOffset: headerOffset))
    latestByHash?[hash] = nil
  }

  /// Adds a record taken from an existing index (used to extend an index without re-scanning).
  ///
  /// - Parameters:
  ///   - record: a filled slot of the existing index.
  ///   - headerOffset: where the member's header is, to re-read its path if it collides.
  public mutating func add(existing record: CotarIndexRecord, headerOffset: UInt64) {
    records.append(
      PendingRecord(hash: record.hash, blockOffset: record.blockOffset, size: record.size, headerOffset: headerOffset))
    latestByHash?[record.hash] = records.count - 1
  }

  /// The header offset recorded for a record whose path is unknown (see ``add(existing:)``).
  static let unknownHeaderOffset = UInt64.max

  /// Adds a record taken from an existing index whose member position is not known (used
  /// by `cotar append`, which reuses the old index without re-scanning the old members).
  ///
  /// Such a record sorts before every record added with a known header offset. When a later
  /// member has the same hash, the record is taken to be the same path and is superseded
  /// (last wins) without reading its path: two different paths would need equal 64-bit
  /// FNV-1a hashes, which the old index could not have told apart either (probability about
  /// 2^-64 per pair).
  /// - Parameter record: a filled slot of the existing index.
  public mutating func add(existing record: CotarIndexRecord) {
    add(existing: record, headerOffset: Self.unknownHeaderOffset)
  }

  /// Sort key within a run of equal hashes: unknown positions first, then by header offset.
  private static func order(_ record: PendingRecord) -> UInt64 { record.headerOffset &+ 1 }

  /// The latest record per path hash, leaving out paths whose latest member is a shadow.
  private static func latestIndex(of records: [PendingRecord], shadows: [Shadow]) -> [UInt64: Int] {
    var table: [UInt64: Int] = [:]
    table.reserveCapacity(records.count)
    for (index, record) in records.enumerated() { table[record.hash] = index }
    for shadow in shadows {
      if let index = table[shadow.hash], order(records[index]) < shadow.headerOffset &+ 1 { table[shadow.hash] = nil }
    }
    return table
  }

  /// Builds the index bytes.
  ///
  /// - Parameter pathAt: returns the path bytes of the member whose header starts at an
  ///   offset; called only for members that share a hash (duplicates or collisions).
  /// - Returns: the serialized index and statistics.
  /// With ``Options/automaticPacking`` a probe run longer than `maxSearch` makes the builder
  /// retry with the packing raised by ``Options/automaticPackingStep``; the packing used is
  /// in ``IndexBuildStats/packing``.
  /// - Throws: `CotarError` `.hashCollision` naming both paths, `.indexTooDense` when a probe
  ///   run exceeds `maxSearch` at a fixed packing, or at every automatic packing up to
  ///   ``Options/automaticPackingLimit`` (suggesting a larger packing), `.limitExceeded` for more than
  ///   2^32 − 1 slots, or what `pathAt` throws.
  public consuming func build(
    pathAt: (UInt64) async throws -> [UInt8]
  ) async throws -> BuiltIndex {
    try Task.checkCancellation()
    var unique = records
    records = []
    latestByHash = nil
    var duplicates = 0
    if !shadows.isEmpty {
      duplicates = try await Self.removeShadowed(&unique, by: shadows, pathAt: pathAt)
      shadows = []
    }
    // Fast path: order every record for placement at once. Records sharing a hash always
    // share a home slot, so the placement groups reveal duplicates; only when there are
    // some (rare) are they removed first and the records ordered again for the smaller
    // slot count, exactly as the general path does.
    let ordered: [PendingRecord]
    let slotCount: UInt32
    if case .success(let count) = Self.slotCount(files: unique.count, options: options),
      case let attempt = Self.orderForPlacement(unique, slotCount: Int(count)), !attempt.hasSharedHash
    {
      (ordered, slotCount) = (attempt.ordered, count)
    } else {
      duplicates += try await Self.removeDuplicates(&unique, pathAt: pathAt)
      slotCount = try Self.slotCount(files: unique.count, options: options).get()
      ordered = Self.orderForPlacement(unique, slotCount: Int(slotCount)).ordered
    }
    unique = []  // release the unordered records before the table is allocated
    var current = options
    var placement = ordered
    var slots = slotCount
    while true {
      switch Self.layOut(placement, slotCount: slots, duplicates: duplicates, options: current) {
      case .success(let built):
        return built
      case .failure(var error):
        let next = current.packing + Options.automaticPackingStep
        if error.code == .indexTooDense, current.automaticPacking, next <= current.automaticPackingLimit,
          case .success(let nextSlots) = Self.slotCount(files: placement.count, options: Options(packing: next, maxSearch: current.maxSearch))
        {
          current.packing = next
          slots = nextSlots
          placement = Self.orderForPlacement(placement, slotCount: Int(nextSlots)).ordered
          continue
        }
        if let headerOffset = error.offset {
          error.path = String(decoding: try await pathAt(headerOffset), as: UTF8.self)
        }
        throw error
      }
    }
  }

  /// Drops every record that a later shadow of the same path replaces, and returns how many.
  ///
  /// Linear, with no sort: a bit filter of the shadows' hashes screens the records (two bit
  /// tests each); a second filter, of the few records that pass, screens the shadows; only
  /// shadows passing both are kept by hash, and paths are compared only for a record that a
  /// later shadow shares its hash with. A record taken from an existing index (unknown
  /// position) is dropped without reading paths, as ``add(existing:)`` describes for repeated
  /// paths.
  private static func removeShadowed(
    _ records: inout [PendingRecord], by shadows: [Shadow], pathAt: (UInt64) async throws -> [UInt8]
  ) async throws -> Int {
    let shadowFilter = HashFilter(shadows.lazy.map(\.hash))
    let candidates = records.indices.filter { shadowFilter.mightContain(records[$0].hash) }
    guard !candidates.isEmpty else { return 0 }
    let candidateFilter = HashFilter(candidates.map { records[$0].hash })
    var shadowOffsets: [UInt64: [UInt64]] = [:]
    for shadow in shadows where candidateFilter.mightContain(shadow.hash) {
      shadowOffsets[shadow.hash, default: []].append(shadow.headerOffset)
    }
    guard !shadowOffsets.isEmpty else { return 0 }
    var isDropped = [Bool](repeating: false, count: records.count)
    var dropped = 0
    for position in candidates {
      let record = records[position]
      guard let offsets = shadowOffsets[record.hash] else { continue }
      var recordPath: [UInt8]?
      for offset in offsets where order(record) < offset &+ 1 {
        if record.headerOffset == unknownHeaderOffset {
          isDropped[position] = true
          break
        }
        if recordPath == nil { recordPath = try await pathAt(record.headerOffset) }
        // Equal hashes of different paths (about 2^-64 per pair): the shadow is not indexed,
        // so the two need not be told apart; the record stays.
        if try await pathAt(offset) == recordPath {
          isDropped[position] = true
          break
        }
      }
      if isDropped[position] { dropped += 1 }
    }
    guard dropped > 0 else { return 0 }
    removeRecords(&records, where: isDropped)
    return dropped
  }

  /// Removes the records whose flag in `isDropped` is set, keeping the others in order, in
  /// place (no second array of records).
  private static func removeRecords(_ records: inout [PendingRecord], where isDropped: [Bool]) {
    var kept = 0
    for position in records.indices where !isDropped[position] {
      records[kept] = records[position]
      kept += 1
    }
    records.removeLast(records.count - kept)
  }

  /// Keeps the last member (highest header offset) of each path and returns how many were dropped.
  ///
  /// Runs of records sharing a hash are handled in ascending hash order, and within a run by
  /// header offset, so errors name the same pair a full sort by (hash, header offset) would.
  /// The order of the kept records is not significant: ``orderForPlacement(_:slotCount:)``
  /// imposes its own total order.
  private static func removeDuplicates(
    _ records: inout [PendingRecord], pathAt: (UInt64) async throws -> [UInt8]
  ) async throws -> Int {
    let runs = sharedHashRuns(records)
    guard !runs.isEmpty else { return 0 }
    var isDropped = [Bool](repeating: false, count: records.count)
    var dropped = 0
    for run in runs {
      guard let lastPosition = run.last else { continue }
      let last = records[lastPosition]
      let pathKnown = last.headerOffset != unknownHeaderOffset
      let lastPath = pathKnown ? try await pathAt(last.headerOffset) : []
      for position in run.dropLast() {
        let other = records[position]
        isDropped[position] = true
        guard pathKnown, other.headerOffset != unknownHeaderOffset else { continue }
        let otherPath = try await pathAt(other.headerOffset)
        guard otherPath == lastPath else {
          throw CotarError(
            .hashCollision,
            "paths '\(String(decoding: otherPath, as: UTF8.self))' (header at \(other.headerOffset)) and '\(String(decoding: lastPath, as: UTF8.self))' (header at \(last.headerOffset)) have the same FNV-1a 64 hash 0x\(String(last.hash, radix: 16)); rename one of them",
            offset: last.headerOffset, path: String(decoding: lastPath, as: UTF8.self))
        }
      }
      dropped += run.count - 1
    }
    removeRecords(&records, where: isDropped)
    return dropped
  }

  /// The positions of records that share their hash with another record: one run per hash,
  /// each ordered by (header offset, position), the runs in ascending hash order.
  ///
  /// Equal hashes land in the same bucket of a counting sort on `hash % count`, so only the
  /// (tiny) buckets holding two or more records are compared; no full sort is needed.
  private static func sharedHashRuns(_ records: [PendingRecord]) -> [[Int]] {
    let bucketCount = records.count
    guard bucketCount > 1 else { return [] }
    var cursor = [UInt32](repeating: 0, count: bucketCount + 1)
    for record in records { cursor[Int(record.hash % UInt64(bucketCount)) + 1] += 1 }
    for bucket in 0..<bucketCount { cursor[bucket + 1] += cursor[bucket] }
    var order = [UInt32](repeating: 0, count: records.count)
    for (position, record) in records.enumerated() {
      let bucket = Int(record.hash % UInt64(bucketCount))
      order[Int(cursor[bucket])] = UInt32(position)
      cursor[bucket] += 1
    }
    var runs: [[Int]] = []
    var groupStart = 0
    for bucket in 0..<bucketCount {
      let groupEnd = Int(cursor[bucket])
      defer { groupStart = groupEnd }
      guard groupEnd - groupStart > 1 else { continue }
      let group = order[groupStart..<groupEnd]
      let hasSharedHash = group.indices.contains { first in
        group[(first + 1)...].contains { records[Int($0)].hash == records[Int(group[first])].hash }
      }
      guard hasSharedHash else { continue }
      let sorted = group.map(Int.init).sorted {
        (records[$0].hash, Self.order(records[$0]), $0) < (records[$1].hash, Self.order(records[$1]), $1)
      }
      var runStart = 0
      while runStart < sorted.count {
        var runEnd = runStart + 1
        while runEnd < sorted.count && records[sorted[runEnd]].hash == records[sorted[runStart]].hash { runEnd += 1 }
        if runEnd - runStart > 1 { runs.append(Array(sorted[runStart..<runEnd])) }
        runStart = runEnd
      }
    }
    runs.sort { records[$0[0]].hash < records[$1[0]].hash }
    return runs
  }

  /// The slot count for `files` indexed paths: `ceil(files × packingFactor)`, checked.
  private static func slotCount(files fileCount: Int, options: Options) -> Result<UInt32, CotarError> {
    let slotsDouble = (Double(fileCount) * options.packingFactor).rounded(.up)
    guard slotsDouble <= Double(UInt32.max), let slotCount32 = UInt32(exactly: slotsDouble) else {
      return .failure(CotarError(
        .limitExceeded, "\(fileCount) files need \(slotsDouble) slots, more than a v2 index can hold (2^32 − 1)"))
    }
    guard Int(slotCount32) >= fileCount else {
      return .failure(CotarError(.indexTooDense, "\(fileCount) files do not fit in \(slotCount32) slots; use a larger packing"))
    }
    return .success(slotCount32)
  }

  /// Places records, already in placement order, into slots: linear probing from each
  /// record's home slot. A failure carries the offending member's header offset in `offset`.
  private static func layOut(
    _ ordered: [PendingRecord], slotCount slotCount32: UInt32, duplicates: Int, options: Options
  ) -> Result<BuiltIndex, CotarError> {
    let fileCount = ordered.count
    let slotCount = Int(slotCount32)

    var bytes = [UInt8](repeating: 0, count: Int(CotarFormat.indexSize(slotCount: slotCount32)))
    let header = CotarIndexHeader(slotCount: slotCount32).serialized()
    bytes.replaceSubrange(0..<8, with: header)
    bytes.replaceSubrange((bytes.count - 8)..<bytes.count, with: header)

    var longestProbe = 0
    var totalProbe = 0
    var failure: CotarError?
    bytes.withUnsafeMutableBytes { table in
      let slots = table.baseAddress.map { $0 + CotarFormat.headerSize }
      guard let slots else { return }
      for record in ordered {
        let home = Int(record.hash % UInt64(slotCount))
        var slot = home
        var search = 0
        while slots.loadUnaligned(fromByteOffset: slot * 16, as: UInt64.self) != 0 {
          search += 1
          slot += 1
          if slot == slotCount { slot = 0 }
          if search > options.maxSearch || slot == home {
            failure = CotarError(
              .indexTooDense,
              "no free slot within \(options.maxSearch) probes of its home slot \(home) (\(fileCount) files in \(slotCount) slots); rebuild with a larger --packing (e.g. \(Int(options.packing * 2 + 25))) or --max-search",
              offset: record.headerOffset == unknownHeaderOffset ? nil : record.headerOffset)
            return
          }
        }
        longestProbe = max(longestProbe, search)
        totalProbe += search
        let at = slot * 16
        slots.storeBytes(of: record.hash.littleEndian, toByteOffset: at, as: UInt64.self)
        slots.storeBytes(of: record.blockOffset.littleEndian, toByteOffset: at + 8, as: UInt32.self)
        slots.storeBytes(of: record.size.littleEndian, toByteOffset: at + 12, as: UInt32.self)
      }
    }
    if let failure { return .failure(failure) }
    let stats = IndexBuildStats(
      files: fileCount, slots: slotCount, longestProbe: longestProbe,
      meanProbe: fileCount == 0 ? 0 : Double(totalProbe) / Double(fileCount), duplicatesDropped: duplicates,
      packing: options.packing, automaticPacking: options.automaticPacking)
    return .success(BuiltIndex(bytes: bytes, stats: stats))
  }

  /// The records sorted by (home slot, block offset, hash) — linz placement order — and
  /// whether two of them share a hash (possible only within a home slot's group).
  ///
  /// A counting sort on the home slot, then a sort of each slot's (usually tiny) group. The
  /// counting array doubles as the cursor, so only one slot-sized array exists; the copies
  /// are contiguous, so the group sorts and the layout read memory sequentially.
  private static func orderForPlacement(
    _ records: [PendingRecord], slotCount: Int
  ) -> (ordered: [PendingRecord], hasSharedHash: Bool) {
    guard slotCount > 0 else { return ([], false) }
    // cursor[home + 1] counts the records of `home`; the prefix sum turns cursor[home] into
    // where the group of `home` begins. Filling advances cursor[home] to the group's end,
    // which is where the group of `home + 1` begins.
    var cursor = [UInt32](repeating: 0, count: slotCount + 1)
    for record in records { cursor[Int(record.hash % UInt64(slotCount)) + 1] += 1 }
    for slot in 0..<slotCount { cursor[slot + 1] += cursor[slot] }
    var ordered = [PendingRecord](
      repeating: PendingRecord(hash: 0, blockOffset: 0, size: 0, headerOffset: 0), count: records.count)
    for record in records {
      let home = Int(record.hash % UInt64(slotCount))
      ordered[Int(cursor[home])] = record
      cursor[home] += 1
    }
    var hasSharedHash = false
    var groupStart = 0
    for slot in 0..<slotCount {
      let groupEnd = Int(cursor[slot])
      if groupEnd - groupStart > 1 {
        ordered[groupStart..<groupEnd].sort { ($0.blockOffset, $0.hash) < ($1.blockOffset, $1.hash) }
        for first in groupStart..<(groupEnd - 1) where !hasSharedHash {
          hasSharedHash = ordered[(first + 1)..<groupEnd].contains { $0.hash == ordered[first].hash }
        }
      }
      groupStart = groupEnd
    }
    return (ordered, hasSharedHash)
  }
}

/// A serialized index and what building it found.
public struct BuiltIndex: Sendable {
  /// The index bytes: header, slots, footer.
  public var bytes: [UInt8]
  /// Build statistics.
  public var stats: IndexBuildStats
}

/// Statistics of an index build.
public struct IndexBuildStats: Hashable, Sendable {
  /// Indexed paths (after duplicates were dropped).
  public var files: Int
  /// Slots in the table.
  public var slots: Int
  /// Longest distance from a path's home slot to where it was placed.
  public var longestProbe: Int
  /// Mean distance from home slot.
  public var meanProbe: Double
  /// Earlier occurrences of repeated paths that were superseded (last wins), by a later file
  /// or hard link of the path or by a later member of another kind (SPEC §6).
  public var duplicatesDropped: Int
  /// The packing (percent) the table was built with: the requested one, or with automatic
  /// packing the first that kept every probe run within the max search.
  public var packing: Double = 25
  /// Whether the packing was chosen automatically (``CotarIndexBuilder/Options/automaticPacking``).
  public var automaticPacking = false
}

/// A set of path hashes as a bit filter: ``mightContain(_:)`` is `true` for every hash it was
/// made from and, with 32 bits per hash and two probes, for about 1 in 250 others. The FNV-1a
/// hashes are already well mixed, so their low and high bits are the probes.
struct HashFilter {
  private var bits: [UInt64]
  private let mask: UInt64

  /// A filter of `hashes`.
  init<Hashes: Collection<UInt64>>(_ hashes: Hashes) {
    var bitCount = 64
    while bitCount < hashes.count * 32 { bitCount <<= 1 }
    mask = UInt64(bitCount - 1)
    bits = [UInt64](repeating: 0, count: bitCount / 64)
    for hash in hashes {
      let low = hash & mask
      let high = (hash >> 32) & mask
      bits[Int(low >> 6)] |= 1 << (low & 63)
      bits[Int(high >> 6)] |= 1 << (high & 63)
    }
  }

  /// Whether `hash` may be one of the filter's hashes (`false`: certainly not).
  @inline(__always)
  func mightContain(_ hash: UInt64) -> Bool {
    let low = hash & mask
    let high = (hash >> 32) & mask
    return bits[Int(low >> 6)] & (1 << (low & 63)) != 0 && bits[Int(high >> 6)] & (1 << (high & 63)) != 0
  }
}
