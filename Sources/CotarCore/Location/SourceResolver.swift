/// Turns location strings into ``RangeSource``s by their URL scheme.
///
/// Without a scheme (or with `file://`) a location is a local path, opened as a
/// ``FileSource``. Other schemes are added by the modules that implement them: `CotarHTTP`
/// adds `http` and `https` (`SourceResolver.http()`), and an embedder can add its own
/// (`gs`, `az`, …) with ``adding(schemes:_:)``.
public struct SourceResolver: Sendable {
  /// Makes a source for a location string (the whole string, scheme included).
  public typealias Factory = @Sendable (String) throws -> any RangeSource

  private var factories: [String: Factory]
  private let localFiles: Factory

  /// A resolver for local paths only.
  ///
  /// - Parameter localFiles: how a local path is opened; the default is ``FileSource``.
  public init(localFiles: @escaping Factory = { try FileSource(path: $0) }) {
    self.factories = [:]
    self.localFiles = localFiles
  }

  /// A copy that opens locations with any of `schemes` (case-insensitive, without `://`)
  /// through `factory`.
  public func adding(schemes: [String], _ factory: @escaping Factory) -> SourceResolver {
    var copy = self
    for scheme in schemes { copy.factories[scheme.lowercased()] = factory }
    return copy
  }

  /// The URL scheme of `location` in lower case (`http`, `s3`), or `nil` for a local path.
  public static func scheme(of location: String) -> String? {
    guard let separator = location.firstRange(of: "://") else { return nil }
    let scheme = location[..<separator.lowerBound]
    guard let first = scheme.first, first.isLetter,
      scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
    else { return nil }
    return scheme.lowercased()
  }

  /// Whether `location` names something other than a local file.
  public static func isRemote(_ location: String) -> Bool {
    guard let scheme = scheme(of: location) else { return false }
    return scheme != "file"
  }

  /// Whether this resolver can open `location`.
  public func canResolve(_ location: String) -> Bool {
    guard let scheme = Self.scheme(of: location), scheme != "file" else { return true }
    return factories[scheme] != nil
  }

  /// A source for `location`.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a scheme nobody registered (the message
  ///   says which module adds it), or what the factory throws (for a missing local file,
  ///   `.notFound`).
  public func source(for location: String) throws -> any RangeSource {
    guard let scheme = Self.scheme(of: location) else { return try localFiles(location) }
    if scheme == "file" { return try localFiles(String(location.dropFirst("file://".count))) }
    guard let factory = factories[scheme] else {
      let hint =
        scheme == "http" || scheme == "https"
        ? "; import CotarHTTP and pass SourceResolver.http()" : "; register it with SourceResolver.adding(schemes:_:)"
      throw CotarError(.invalidArgument, "no source for '\(scheme)://' locations\(hint)", source: scheme + "://")
    }
    return try factory(location)
  }
}
