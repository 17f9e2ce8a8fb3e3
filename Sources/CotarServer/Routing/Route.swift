/// What a request path asks for, after percent-decoding; see ``Route/init(path:archives:)``.
///
/// Paths (compatible with linz/cotar's `serve`):
/// - `/v1/file/<path>` and `/v1/<archive>/file/<path>`: an entry.
/// - `/v1/list[/<dir>]` and `/v1/<archive>/list[/<dir>]`: a directory listing.
/// - `/archive/<name>`: the raw bytes of an archive, of its `.index` sidecar, or of its
///   `.names` sidecar name table (`/archive/<name>.names`, for an archive with a sidecar index).
/// - `/health`.
package enum Route: Hashable, Sendable {
  /// An entry of the archive at `archive` (an index into the served archives).
  case file(archive: Int, path: [UInt8])
  /// A directory listing; `directory` is empty for the root.
  case list(archive: Int, directory: [UInt8])
  /// The raw bytes of an archive's tar (or `.tar.co`) source.
  case rawArchive(archive: Int)
  /// The raw bytes of an archive's sidecar index.
  case rawIndex(archive: Int)
  /// The raw bytes of an archive's `X.tar.names` sidecar name table (`/archive/<name>.names`
  /// of an archive with a sidecar index; the responder answers 404 when it has no table).
  case rawNames(archive: Int)
  /// The health check.
  case health

  /// Why a path could not be routed.
  package enum Failure: Error, Hashable, Sendable {
    /// No route matches (HTTP 404).
    case notFound(String)
    /// The path is malformed: a bad `%` escape, a NUL byte, an empty entry path (HTTP 400).
    case malformed(String)
  }

  /// Routes a raw (still percent-encoded) request path such as `/v1/file/a%20b.txt`.
  ///
  /// - Parameters:
  ///   - path: the path component of the request target, without the query.
  ///   - archives: the names of the served archives and of their sidecar indexes, in order.
  ///     An archive with a sidecar index also answers `<name>.names`; the served names and
  ///     indexes win over such a name.
  /// - Throws: ``Failure/notFound(_:)`` or ``Failure/malformed(_:)``.
  package init(path: Substring, archives: [(name: [UInt8], indexName: [UInt8]?)]) throws(Failure) {
    if path == "/health" {
      self = .health
      return
    }
    if let rest = path.dropPrefix("/archive/") {
      let name = try Self.decode(rest)
      if let found = archives.firstIndex(where: { $0.name == name }) {
        self = .rawArchive(archive: found)
        return
      }
      if let found = archives.firstIndex(where: { $0.indexName == name }) {
        self = .rawIndex(archive: found)
        return
      }
      if name.count > Self.namesSuffix.count, name.suffix(Self.namesSuffix.count).elementsEqual(Self.namesSuffix),
        let found = archives.firstIndex(where: { $0.indexName != nil && $0.name.elementsEqual(name.dropLast(Self.namesSuffix.count)) })
      {
        self = .rawNames(archive: found)
        return
      }
      throw .notFound("no archive named '\(String(decoding: name, as: UTF8.self))'")
    }
    guard let versioned = path.dropPrefix("/v1/") ?? (path == "/v1" ? Substring("") : nil) else {
      throw .notFound("unknown path")
    }
    let (first, afterFirst) = versioned.splitFirstSegment()
    if first == "file" || first == "list", !archives.isEmpty {
      self = try Self.resource(first, rest: afterFirst, archive: 0)
      return
    }
    let name = try Self.decode(first)
    guard let archive = archives.firstIndex(where: { $0.name == name }) else {
      throw .notFound("no archive named '\(String(decoding: name, as: UTF8.self))'")
    }
    let (kind, rest) = (afterFirst ?? "").splitFirstSegment()
    guard kind == "file" || kind == "list" else { throw .notFound("unknown path") }
    self = try Self.resource(kind, rest: rest, archive: archive)
  }

  /// The suffix of an archive's name-table sidecar under `/archive/` (`a.tar` → `a.tar.names`).
  private static let namesSuffix = Array(".names".utf8)

  private static func resource(_ kind: Substring, rest: Substring?, archive: Int) throws(Failure) -> Route {
    if kind == "list" { return .list(archive: archive, directory: try decode(rest ?? "")) }
    guard let rest else { throw .malformed("no entry path after /file/") }
    let entry = try decode(rest)
    guard !entry.isEmpty else { throw .malformed("no entry path after /file/") }
    return .file(archive: archive, path: entry)
  }

  private static func decode(_ text: Substring) throws(Failure) -> [UInt8] {
    guard let bytes = PercentEncoding.decode(text.utf8) else {
      throw .malformed("malformed percent escape in the path")
    }
    guard !bytes.contains(0) else { throw .malformed("NUL byte in the path") }
    return bytes
  }
}

extension Substring {
  fileprivate func dropPrefix(_ prefix: String) -> Substring? {
    hasPrefix(prefix) ? self.dropFirst(prefix.count) : nil
  }

  /// The text before the first `/` and the text after it (`nil` when there is no `/`).
  fileprivate func splitFirstSegment() -> (Substring, Substring?) {
    guard let slash = firstIndex(of: "/") else { return (self, nil) }
    return (self[..<slash], self[index(after: slash)...])
  }
}
