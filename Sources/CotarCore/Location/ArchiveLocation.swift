/// Where an archive and its index are, as a user names them: a path or a URL to a `.tar.co`,
/// or to a `.tar` with a `.tar.index` sidecar, given or guessed.
///
/// The rules, in order:
/// 1. An explicit ``index`` is the sidecar.
/// 2. A name ending in `.co` is a `.tar.co`: its index is read from its end, even when a
///    `.tar.co.index` copy exists beside it.
/// 3. A local `NAME` with a readable `NAME.index` beside it uses that sidecar.
/// 4. A remote `NAME.tar` without a query string tries `NAME.tar.index`; only a "not found"
///    answer for it falls back to reading `NAME.tar` as a `.tar.co`. Any other failure of
///    the guessed sidecar (401, 403, 5xx) is reported. A URL with a query (such as a presigned
///    URL, whose signature is valid for one object only) never gets a guessed sidecar: give
///    ``index`` explicitly.
/// 5. Anything else is read as a `.tar.co`.
public struct ArchiveLocation: Sendable, Hashable, CustomStringConvertible {
  /// The archive: a local path or a URL.
  public var archive: String
  /// The sidecar index, when given explicitly: a local path or a URL.
  public var index: String?

  /// Names an archive and, optionally, its sidecar index.
  public init(_ archive: String, index: String? = nil) {
    self.archive = archive
    self.index = index
  }

  /// Whether the archive or its index is remote (has a scheme other than `file://`).
  public var isRemote: Bool {
    SourceResolver.isRemote(archive) || index.map(SourceResolver.isRemote) == true
  }

  /// The archive, as given.
  public var description: String { archive }

  /// How the index of an archive is found, once the location is resolved.
  public enum IndexPlacement: Sendable {
    /// The index is at the end of the archive (a `.tar.co`).
    case trailing
    /// The index is in a separate source.
    case sidecar(any RangeSource)
    /// A guessed `URL.index`; when it does not exist, the archive is read as a `.tar.co`.
    case guessedSidecar(any RangeSource)
  }

  /// The archive's sources, resolved but not yet read.
  public struct Sources: Sendable {
    /// The tar (or `.tar.co`) bytes.
    public var tar: any RangeSource
    /// Where the index is.
    public var index: IndexPlacement
    /// Advice added to a "no Cotar index" error when the archive is read as a `.tar.co`
    /// only because no sidecar could be guessed (a `.tar` URL with a query).
    public var missingIndexAdvice: String?

    /// Creates resolved sources.
    public init(tar: any RangeSource, index: IndexPlacement, missingIndexAdvice: String? = nil) {
      self.tar = tar
      self.index = index
      self.missingIndexAdvice = missingIndexAdvice
    }

    /// The sidecar source, given or guessed, if any.
    public var sidecar: (any RangeSource)? {
      switch index {
      case .trailing: nil
      case .sidecar(let source), .guessedSidecar(let source): source
      }
    }

    /// Opens the archive: the index at the tar's end, or the sidecar.
    ///
    /// - Throws: `CotarError` from the sources or the index (see ``Cotar/open(_:options:)``
    ///   and ``Cotar/open(tar:index:options:)``); a guessed sidecar that does not exist
    ///   (`.notFound`) is not an error.
    public func open(options: Cotar.OpenOptions = .init()) async throws -> Cotar {
      try await openReportingSidecar(options: options).cotar
    }

    /// Opens the archive as ``open(options:)`` does, and also returns the sidecar actually
    /// used (`nil` when the index was read from the tar's end).
    ///
    /// - Throws: as ``open(options:)``.
    public func openReportingSidecar(
      options: Cotar.OpenOptions = .init()
    ) async throws -> (cotar: Cotar, sidecar: (any RangeSource)?) {
      switch index {
      case .trailing:
        do {
          return (try await Cotar.open(tar, options: options), nil)
        } catch var error as CotarError where error.code == .invalidMagic {
          if let missingIndexAdvice { error.message += "; " + missingIndexAdvice }
          if GzipIndexFormat.isGzipName(tar.identity) {
            // An uncompressed tar under a .tar.gz name cannot be indexed as one: say so.
            let start = await Self.firstBlock(of: tar)
            if !start.isEmpty, !start.starts(with: [0x1F, 0x8B]), GzipSeekPointScanner.isTarHeader(start) {
              error.message += "; " + GzipSeekPointScanner.notGzipMessage(start, identity: tar.identity)
            } else {
              error.message += "; a .tar.gz is read with its .tar.gz.index: build it with 'cotar index \(tar.identity)'"
            }
          }
          throw error
        }
      case .sidecar(let sidecar):
        return (try await Self.open(tar: tar, index: sidecar, options: options), sidecar)
      case .guessedSidecar(let sidecar):
        do {
          return (try await Self.open(tar: tar, index: sidecar, options: options), sidecar)
        } catch let error as CotarError where error.code == .notFound && error.source == sidecar.identity {
          return (try await Cotar.open(tar, options: options), nil)
        }
      }
    }

    /// The first 512 bytes of `source` (fewer for a shorter file), or none when they cannot be read.
    static func firstBlock(of source: any RangeSource) async -> [UInt8] {
      guard let size = try? await source.size(), size > 0 else { return [] }
      return (try? await source.read(0..<min(size, UInt64(TarHeader.blockSize)))) ?? []
    }

    /// A tar with a sidecar: a `.tar.gz` (by name) with its `.tar.gz.index` (SPEC §13), else
    /// a `.tar` with a v2 sidecar (which, when it turns out to be a `.tar.gz.index`, is
    /// opened as one).
    private static func open(tar: any RangeSource, index: any RangeSource, options: Cotar.OpenOptions) async throws -> Cotar {
      if GzipIndexFormat.isGzipName(tar.identity) { return try await Cotar.open(gzip: tar, index: index, options: options) }
      do {
        return try await Cotar.open(tar: tar, index: index, options: options)
      } catch let error as CotarError where error.code == .unsupportedVersion && error.offset == 3 {
        return try await Cotar.open(gzip: tar, index: index, options: options)
      }
    }
  }

  /// Resolves the archive and its index to sources, without reading them.
  ///
  /// - Parameter resolver: how locations become sources (local files only by default).
  /// - Throws: `CotarError` from ``SourceResolver/source(for:)``.
  public func resolve(using resolver: SourceResolver = SourceResolver()) throws -> Sources {
    let tar = try resolver.source(for: archive)
    if let index {
      return Sources(tar: tar, index: .sidecar(try resolver.source(for: index)))
    }
    let name = Self.pathPart(of: archive).lowercased()
    if name.hasSuffix(".co") { return Sources(tar: tar, index: .trailing) }
    if SourceResolver.isRemote(archive) {
      guard name.hasSuffix(".tar") || GzipIndexFormat.isGzipName(name) else { return Sources(tar: tar, index: .trailing) }
      guard !Self.hasQuery(archive) else {
        return Sources(
          tar: tar, index: .trailing,
          missingIndexAdvice: "a .tar URL with a query (a presigned URL) gets no guessed URL.index: give the index with --index")
      }
      return Sources(tar: tar, index: .guessedSidecar(try resolver.source(for: Self.pathPart(of: archive) + ".index")))
    }
    let localPath = SourceResolver.scheme(of: archive) == "file" ? String(archive.dropFirst("file://".count)) : archive
    if Syscall.isReadable(localPath + ".index") {
      return Sources(tar: tar, index: .sidecar(try resolver.source(for: archive + ".index")))
    }
    return Sources(tar: tar, index: .trailing)
  }

  /// `location` without its query and fragment.
  static func pathPart(of location: String) -> String {
    guard SourceResolver.isRemote(location), let cut = location.firstIndex(where: { $0 == "?" || $0 == "#" }) else {
      return location
    }
    return String(location[..<cut])
  }

  static func hasQuery(_ location: String) -> Bool {
    SourceResolver.isRemote(location) && location.contains("?")
  }
}

extension Cotar {
  /// Opens an archive by name: a local path or a URL, a `.tar.co`, or a `.tar` with a
  /// sidecar given or guessed (the rules are on ``ArchiveLocation``).
  ///
  /// ```swift
  /// let archive = try await Cotar.open(location: "tiles.tar.co")
  /// let tile = try await archive.read("tiles/0/0/0.pbf")
  /// ```
  ///
  /// - Parameters:
  ///   - location: the archive's path or URL.
  ///   - index: the sidecar index's path or URL, when it is not beside the archive.
  ///   - resolver: how locations become sources; pass `SourceResolver.http()` (from
  ///     `CotarHTTP`) for `http(s)://` URLs.
  ///   - options: open options.
  /// - Throws: `CotarError`: `.notFound` for a missing file or object, `.invalidArgument` for
  ///   a scheme the resolver does not know, and what ``Cotar/open(_:options:)`` throws.
  public static func open(
    location: String, index: String? = nil, resolver: SourceResolver = SourceResolver(),
    options: OpenOptions = OpenOptions()
  ) async throws -> Cotar {
    try await ArchiveLocation(location, index: index).resolve(using: resolver).open(options: options)
  }
}
