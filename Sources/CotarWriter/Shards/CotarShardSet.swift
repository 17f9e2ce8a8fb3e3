import CotarCore

import Synchronization

/// A set of shards written by `cotar pack`, read through their manifest.
///
/// A path is resolved by binary search over the shards' sorted path ranges, then looked up
/// in that shard's index; the shard is opened on first use and kept open. Shards can be
/// local files or any ``RangeSource`` (for example HTTP), supplied by an opener closure.
public final class CotarShardSet: Sendable {
  /// Opens a shard or sidecar file by its name in the manifest.
  public typealias Opener = @Sendable (String) async throws -> any RangeSource

  /// The parsed manifest.
  public let manifest: ShardManifest
  private let opener: Opener
  private let options: Cotar.OpenOptions
  private let opened = Mutex<[Int: Cotar]>([:])

  /// Largest manifest read, in bytes.
  public static let maximumManifestBytes: UInt64 = 256 << 20

  /// Wraps a parsed manifest.
  public init(manifest: ShardManifest, options: Cotar.OpenOptions = .init(), opener: @escaping Opener) {
    self.manifest = manifest
    self.options = options
    self.opener = opener
  }

  /// Reads the manifest from `source`; shard names are passed to `opener`.
  ///
  /// - Throws: `CotarError` `.limitExceeded` for a manifest over 256 MiB, `.invalidArgument`
  ///   for a malformed manifest, or what the source throws.
  public static func open(
    manifest source: any RangeSource, options: Cotar.OpenOptions = .init(), opener: @escaping Opener
  ) async throws -> CotarShardSet {
    // One read for a manifest up to 64 KiB (a remote one costs one request), the rest after.
    let (head, size) = try await source.readPrefix(count: 64 << 10)
    guard size <= maximumManifestBytes else {
      throw CotarError(.limitExceeded, "manifest of \(size) bytes is larger than \(maximumManifestBytes)", source: source.identity)
    }
    do {
      let bytes = UInt64(head.count) >= size ? head : head + (try await source.read(UInt64(head.count)..<size))
      return CotarShardSet(manifest: try ShardManifest(parsing: bytes), options: options, opener: opener)
    } catch let error as CotarError {
      throw error.withSource(source.identity)
    }
  }

  /// Opens a local manifest; shards are looked for in the manifest's directory.
  ///
  /// - Throws: as ``open(manifest:options:opener:)``, or `.io` when the file cannot be opened.
  public static func open(manifestPath: String, options: Cotar.OpenOptions = .init()) async throws -> CotarShardSet {
    let directory = manifestPath.lastIndex(of: "/").map { String(manifestPath[...$0]) } ?? ""
    return try await open(manifest: try FileSource(path: manifestPath), options: options) { name in
      try FileSource(path: directory + name)
    }
  }

  /// Whether `location` names a `cotar pack` manifest: its name (without a URL's query or
  /// fragment) ends in `.manifest.json`.
  public static func isManifest(_ location: String) -> Bool {
    withoutQuery(location).hasSuffix(".manifest.json")
  }

  /// Opens the manifest at `location` (a path, an `http(s)://` URL or an `s3://` location,
  /// whatever `resolver` handles); shards are looked for beside it: a shard `NAME` of
  /// `s3://b/sets/x.manifest.json` is `s3://b/sets/NAME`. A URL's query (such as a presigned
  /// signature) is not carried over to the shards.
  ///
  /// - Throws: as ``open(manifest:options:opener:)``, or what `resolver` throws for the
  ///   manifest's location.
  public static func open(
    location: String, resolver: SourceResolver, options: Cotar.OpenOptions = .init()
  ) async throws -> CotarShardSet {
    let directory = shardDirectory(of: location)
    return try await open(manifest: try resolver.source(for: location), options: options) { name in
      try resolver.source(for: directory + name)
    }
  }

  /// Where a manifest's shards are: `location` up to its last `/` (query and fragment of a
  /// URL removed), or empty for a bare file name.
  public static func shardDirectory(of location: String) -> String {
    let trimmed = withoutQuery(location)
    return trimmed.lastIndex(of: "/").map { String(trimmed[...$0]) } ?? ""
  }

  private static func withoutQuery(_ location: String) -> String {
    guard location.contains("://"), let cut = location.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return location }
    return String(location[..<cut])
  }

  /// The index of the shard whose path range holds `pathBytes`, or `nil`.
  public func shardIndex(for pathBytes: [UInt8]) -> Int? { manifest.shardIndex(for: pathBytes) }

  /// The shard at `index`, opened on first use: a `.tar.co` alone, a `.tar` with its sidecar
  /// index, a gzip shard (`compression: "gzip"`) through its `.tar.gz.index` (SPEC §13).
  ///
  /// - Throws: `CotarError` `.invalidArgument` for an index out of range, or as
  ///   ``Cotar/open(_:options:)``, ``Cotar/open(tar:index:options:)`` and ``Cotar/open(gzip:index:options:)``.
  public func archive(shard index: Int) async throws -> Cotar {
    if let cached = opened.withLock({ $0[index] }) { return cached }
    guard manifest.shards.indices.contains(index) else {
      throw CotarError(.invalidArgument, "shard \(index) does not exist (\(manifest.shards.count) shards)")
    }
    let shard = manifest.shards[index]
    let data = try await opener(shard.name)
    let cotar: Cotar
    if shard.isGzip, let sidecar = shard.index {
      cotar = try await Cotar.open(gzip: data, index: try await opener(sidecar), options: options)
    } else if let sidecar = shard.index {
      cotar = try await Cotar.open(tar: data, index: try await opener(sidecar), options: options)
    } else {
      cotar = try await Cotar.open(data, options: options)
    }
    opened.withLock { $0[index] = cotar }
    return cotar
  }

  /// Where `path` is: its shard and its location there; `nil` when it is in no shard.
  ///
  /// - Throws: as ``archive(shard:)`` and ``Cotar/entry(_:)``.
  public func entry(_ path: String) async throws -> (shard: Int, entry: CotarEntry)? {
    try await entry(pathBytes: Array(path.utf8))
  }

  /// Where the entry with raw path bytes is; `nil` when it is in no shard.
  ///
  /// - Throws: as ``entry(_:)``.
  public func entry(pathBytes: [UInt8]) async throws -> (shard: Int, entry: CotarEntry)? {
    guard let index = shardIndex(for: pathBytes) else { return nil }
    guard let entry = try await archive(shard: index).entry(pathBytes: pathBytes) else { return nil }
    return (index, entry)
  }

  /// The bytes of `path`, or `nil` when it is in no shard.
  ///
  /// - Throws: as ``entry(_:)`` and ``Cotar/read(_:)``.
  public func read(_ path: String) async throws -> [UInt8]? {
    guard let index = shardIndex(for: Array(path.utf8)) else { return nil }
    return try await archive(shard: index).read(path)
  }
}
