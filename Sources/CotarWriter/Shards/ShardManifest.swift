import CotarCore

/// The manifest `cotar pack` writes beside its shards (`PREFIX.manifest.json`).
///
/// Shards hold disjoint, consecutive runs of the bytewise-sorted member paths, so
/// ``shardIndex(for:)`` finds a path's shard by binary search over each shard's `first` path.
public struct ShardManifest: Hashable, Sendable {
  /// The value of the manifest's `format` field.
  public static let formatName = "cotar-shards"
  /// The manifest version written and read.
  public static let version: UInt64 = 1
  /// The path-to-shard strategy written and read.
  public static let lookupStrategy = "sorted-path-range"

  /// One shard.
  public struct Shard: Hashable, Sendable {
    /// File name of the shard (`PREFIX-00000-HASH.tar.co`, `.tar` or `.tar.gz`, SPEC §9.3), relative to the manifest.
    public var name: String
    /// File name of the sidecar index, for `.tar` shards.
    public var index: String?
    /// Byte size of `name`.
    public var size: UInt64
    /// Byte size of the sidecar index (0 without one).
    public var indexSize: UInt64
    /// Indexed entries (files and hard links).
    public var entries: UInt64
    /// All members (including symbolic links and directories).
    public var members: UInt64
    /// Lower-case hex SHA-256 of `name`.
    public var sha256: String
    /// Lower-case hex SHA-256 of the sidecar index, when there is one.
    public var indexSHA256: String?
    /// The bytewise smallest member path in the shard.
    public var firstPath: [UInt8]
    /// The bytewise largest member path in the shard.
    public var lastPath: [UInt8]
    /// How the shard file is compressed: `nil` for a plain tar (or `.tar.co`), `"gzip"` for a
    /// cloud-friendly `.tar.gz` (SPEC §13.5) whose `index` is its `.tar.gz.index`.
    public var compression: String?
    /// Size of the uncompressed tar of a compressed shard (`nil` for an uncompressed one).
    public var uncompressedSize: UInt64?

    /// The compression value of a `cotar pack --gzip` shard.
    public static let gzip = "gzip"

    /// Creates a shard description.
    public init(
      name: String, index: String? = nil, size: UInt64, indexSize: UInt64 = 0, entries: UInt64, members: UInt64,
      sha256: String, indexSHA256: String? = nil, firstPath: [UInt8], lastPath: [UInt8], compression: String? = nil,
      uncompressedSize: UInt64? = nil
    ) {
      self.name = name
      self.index = index
      self.size = size
      self.indexSize = indexSize
      self.entries = entries
      self.members = members
      self.sha256 = sha256
      self.indexSHA256 = indexSHA256
      self.firstPath = firstPath
      self.lastPath = lastPath
      self.compression = compression
      self.uncompressedSize = uncompressedSize
    }

    /// Bytes the shard occupies, index included.
    public var totalSize: UInt64 { size + indexSize }

    /// Whether the shard is a gzip-compressed tar read through its `.tar.gz.index`.
    public var isGzip: Bool { compression == Self.gzip }

    /// The files of the shard, relative to the manifest: the shard, its index when it has
    /// one and, for a `.tar` shard with a sidecar index, its name table `NAME.tar.names`
    /// (which `--no-names` leaves out; a `.tar.gz.index` holds its own).
    public var files: [String] {
      guard let index else { return [name] }
      return [name, index] + (isGzip ? [] : [name + NameTableFormat.sidecarSuffix])
    }
  }

  /// The shard size limit the shards were packed to.
  public var shardSizeLimit: UInt64
  /// The shards, in path order.
  public var shards: [Shard]

  /// Creates a manifest.
  public init(shardSizeLimit: UInt64, shards: [Shard]) {
    self.shardSizeLimit = shardSizeLimit
    self.shards = shards
  }

  /// The shard whose path range holds `pathBytes`, or `nil` when none does.
  public func shardIndex(for pathBytes: [UInt8]) -> Int? {
    var low = 0
    var high = shards.count
    while low < high {
      let middle = (low + high) / 2
      if [UInt8].bytewiseLess(pathBytes, shards[middle].firstPath) { high = middle } else { low = middle + 1 }
    }
    guard low > 0 else { return nil }
    let candidate = low - 1
    return [UInt8].bytewiseLess(shards[candidate].lastPath, pathBytes) ? nil : candidate
  }

  /// The manifest as JSON text (UTF-8), ending in a newline.
  public func serialized() -> [UInt8] {
    func path(_ key: String, _ bytes: [UInt8]) -> (String, JSONValue) {
      if let text = String(validating: bytes, as: UTF8.self) { return (key, .string(text)) }
      return (key + "_hex", .string(bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()))
    }
    let shardValues = shards.map { shard -> JSONValue in
      var members: [(String, JSONValue)] = [
        ("name", .string(shard.name)), ("size", .number(String(shard.size))),
        ("entries", .number(String(shard.entries))), ("members", .number(String(shard.members))),
        ("sha256", .string(shard.sha256)),
      ]
      if let index = shard.index {
        members += [
          ("index", .string(index)), ("index_size", .number(String(shard.indexSize))),
          ("index_sha256", .string(shard.indexSHA256 ?? "")),
        ]
      }
      if let compression = shard.compression { members.append(("compression", .string(compression))) }
      if let uncompressed = shard.uncompressedSize { members.append(("uncompressed_size", .number(String(uncompressed)))) }
      members += [path("first", shard.firstPath), path("last", shard.lastPath)]
      return .object(members)
    }
    let root = JSONValue.object([
      ("format", .string(Self.formatName)), ("version", .number(String(Self.version))),
      ("lookup", .string(Self.lookupStrategy)), ("path_order", .string("bytewise")),
      ("shard_size_limit", .number(String(shardSizeLimit))), ("shards", .array(shardValues)),
    ])
    return Array((root.serialized() + "\n").utf8)
  }

  /// Parses a manifest.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for malformed JSON, a different format,
  ///   version or lookup strategy, a missing field, an unknown `compression` (or a gzip
  ///   shard without its index), or shards whose path ranges are not sorted and disjoint.
  public init(parsing bytes: [UInt8]) throws(CotarError) {
    let root = try JSONValue(parsing: bytes)
    func invalid(_ message: String) -> CotarError { CotarError(.invalidArgument, "shard manifest: \(message)") }
    guard root["format"]?.stringValue == Self.formatName else { throw invalid("not a cotar shard manifest (format is not '\(Self.formatName)')") }
    guard root["version"]?.uint64Value == Self.version else { throw invalid("unsupported version (only \(Self.version))") }
    guard root["lookup"]?.stringValue == Self.lookupStrategy else { throw invalid("unknown lookup strategy") }
    guard let limit = root["shard_size_limit"]?.uint64Value, let items = root["shards"]?.arrayValue else {
      throw invalid("missing shard_size_limit or shards")
    }
    func path(_ item: JSONValue, _ key: String) throws(CotarError) -> [UInt8] {
      if let text = item[key]?.stringValue { return Array(text.utf8) }
      guard let hex = item[key + "_hex"]?.stringValue, hex.utf8.count.isMultiple(of: 2) else { throw invalid("shard lacks '\(key)'") }
      var bytes: [UInt8] = []
      var digits = hex.utf8.makeIterator()
      while let high = digits.next(), let low = digits.next() {
        guard let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { throw invalid("bad hex in '\(key)_hex'") }
        bytes.append(value)
      }
      return bytes
    }
    var shards: [Shard] = []
    for item in items {
      guard let name = item["name"]?.stringValue, let size = item["size"]?.uint64Value,
        let entries = item["entries"]?.uint64Value, let sha = item["sha256"]?.stringValue
      else { throw invalid("shard \(shards.count) lacks name, size, entries or sha256") }
      guard !name.contains("/"), !name.isEmpty, name != "..", name != "." else { throw invalid("shard name '\(name)' must be a plain file name") }
      let index = item["index"]?.stringValue
      if let index, index.contains("/") || index.isEmpty || index == ".." || index == "." { throw invalid("index name '\(index)' must be a plain file name") }
      let compression = item["compression"]?.stringValue
      if item["compression"] != nil {
        guard compression == Shard.gzip else {
          throw invalid("shard '\(name)' has an unknown compression (only \"\(Shard.gzip)\" is read)")
        }
        guard index != nil else { throw invalid("gzip shard '\(name)' lacks its 'index' (the .tar.gz.index)") }
      }
      let shard = Shard(
        name: name, index: index, size: size, indexSize: item["index_size"]?.uint64Value ?? 0, entries: entries,
        members: item["members"]?.uint64Value ?? entries, sha256: sha, indexSHA256: item["index_sha256"]?.stringValue,
        firstPath: try path(item, "first"), lastPath: try path(item, "last"), compression: compression,
        uncompressedSize: item["uncompressed_size"]?.uint64Value)
      guard ![UInt8].bytewiseLess(shard.lastPath, shard.firstPath) else { throw invalid("shard '\(name)' has last < first") }
      if let previous = shards.last, ![UInt8].bytewiseLess(previous.lastPath, shard.firstPath) {
        throw invalid("path ranges of '\(previous.name)' and '\(name)' overlap or are out of order")
      }
      shards.append(shard)
    }
    self.init(shardSizeLimit: limit, shards: shards)
  }
}
