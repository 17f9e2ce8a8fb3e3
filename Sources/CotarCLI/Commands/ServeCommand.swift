import ArgumentParser
import CotarCore
import CotarHTTP
import CotarS3
import CotarServer
import Logging
import NIOCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cotar serve ARCHIVE...`: an HTTP server for the entries of one or more archives.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve the entries of cotar archives over HTTP (linz/cotar compatible routes).",
    discussion: """
      Routes: GET|HEAD /v1/file/<path>, GET /v1/list[/<dir>], the same under /v1/<archive-name>/ \
      for each archive, GET|HEAD /archive/<name> (raw archive bytes, for remote readers), GET /health. \
      Browsers get HTML pages: / and /v1/list/... (Accept: text/html), /v1/file/<path>?view previews.
      On SIGINT or SIGTERM stops accepting, lets responses finish for --shutdown-grace, then exits.
      """)

  @Argument(
    help: "One or more .tar.co files, or .tar files with a .tar.index sidecar: paths, http(s):// URLs or s3://bucket/key (reopened when the object is replaced).",
    completion: .file())
  var archives: [String]

  @Option(help: "The sidecar index of a single .tar, path or URL (default: ARCHIVE.index when it exists).", completion: .file())
  var index: String?

  @OptionGroup var remote: RemoteArguments

  @Option(help: "Address to listen on.")
  var host = "127.0.0.1"

  @Option(help: "TCP port to listen on (0 picks a free port).")
  var port = 8080

  @Flag(inversion: .prefixedNo, help: "Build the /v1/list listing from the tar headers at start-up.")
  var list = true

  @Option(help: ArgumentHelp("Allow cross-origin requests from ORIGIN (`*` for any); repeatable.", valueName: "origin"))
  var cors: [String] = []

  @Option(name: .customLong("cache-control"), help: ArgumentHelp("Cache-Control header for entries and archives ('' for none).", valueName: "value"))
  var cacheControl = "public, max-age=3600"

  @Option(name: .customLong("base-url"), help: ArgumentHelp("Prefix of the URLs in listings, e.g. http://localhost:8080 (default: relative URLs).", valueName: "url"))
  var baseURL = ""

  @Option(name: .customLong("chunk-size"), help: ArgumentHelp("Bytes read from the archive and sent per write (4KiB to 64MiB).", valueName: "size"))
  var chunkSize = ByteCount(64 << 10)

  @Flag(help: "Do not log one line per request.")
  var quiet = false

  @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close a connection idle between requests, or taking no response bytes, for this long.", valueName: "seconds"))
  var idleTimeout = 60.0

  @Option(name: .customLong("request-head-timeout"), help: ArgumentHelp("Close a connection whose request head is not complete this long after its first byte.", valueName: "seconds"))
  var requestHeadTimeout = 10.0

  @Option(name: .customLong("max-connections"), help: ArgumentHelp("Most open connections; more get 503 and are closed (default: 10000, or the open-file limit minus 64).", valueName: "count"))
  var maxConnections: Int?

  @Option(name: .customLong("shutdown-grace"), help: ArgumentHelp("On SIGINT/SIGTERM, how long responses in flight may take before they are cut.", valueName: "seconds"))
  var shutdownGrace = 10.0

  @Option(name: .customLong("index-file"), help: ArgumentHelp("File served for a directory path, as in a static web site ('' for none).", valueName: "name"))
  var indexFile = "index.html"

  @Flag(name: .customLong("encoding-from-content"), help: "Send entries stored gzipped (gzip magic, any name but .gz) with Content-Encoding: gzip.")
  var encodingFromContent = false

  @Flag(inversion: .prefixedNo, help: "HTML pages for browsers: / and /v1/list/… for Accept: text/html, /v1/file/…?view previews.")
  var browse = true

  func validate() throws {
    guard !archives.isEmpty else { throw ValidationError("give at least one archive") }
    if index != nil, archives.count > 1 { throw ValidationError("--index needs exactly one archive") }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
    guard (4096...(64 << 20)).contains(chunkSize.bytes) else {
      throw ValidationError("--chunk-size must be from 4KiB to 64MiB, got \(chunkSize.bytes) bytes")
    }
    for (name, value) in [("--idle-timeout", idleTimeout), ("--request-head-timeout", requestHeadTimeout), ("--shutdown-grace", shutdownGrace)] {
      guard value.isFinite, value > 0, value <= 86_400 else {
        throw ValidationError("\(name) must be more than 0 and at most 86400 seconds, got \(value)")
      }
    }
    try Self.checkURLNames(archives)
    if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
    guard !indexFile.contains("/") else { throw ValidationError("--index-file is a file name, without '/'") }
    if cors.contains(where: \.isEmpty) {
      throw ValidationError("--cors takes an origin such as https://example.com, or '*' for any; an empty one allows nothing")
    }
  }

  func run() async throws {
    LoggingSystem.bootstrap(StreamLogHandler.standardError)
    var logger = Logger(label: "cotar.serve")
    logger.logLevel = .info
    let locations = archives.enumerated().map { ArchiveLocation($1, index: $0 == 0 ? index : nil) }
    try await remote.withSession(needed: locations.contains(where: \.isRemote), connections: 64) { session in
      var served: [ServedArchive] = []
      for location in locations {
        let start = ContinuousClock.now
        let opened = try await open(location, resolver: session.resolver)
        let listed = opened.listing.map { ", \(counted($0.count, "file")) listed" } ?? (list ? ", not listed (remote)" : "")
        logger.info("opened \(opened.tar.identity) as /v1/\(opened.name)/ in \(start.duration(to: .now))\(listed)")
        served.append(opened)
      }
      let configuration = CotarServerConfiguration(
        host: host, port: port, cacheControl: cacheControl.isEmpty ? nil : cacheControl, corsOrigins: cors,
        baseURL: baseURL, chunkSize: Int(chunkSize.bytes), listingEnabled: list, accessLog: !quiet,
        limits: .init(
          idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
          requestHeadTimeout: .milliseconds(Int64(requestHeadTimeout * 1000)), maxConnections: maxConnections,
          shutdownGracePeriod: .milliseconds(Int64(shutdownGrace * 1000))),
        indexFile: indexFile.isEmpty ? nil : indexFile, encodingFromContent: encodingFromContent, browse: browse)
      let server = try CotarServer(archives: served, configuration: configuration, logger: logger)
      let startupLogger = logger
      do {
        try await server.run { channel in
          // From here the service group (whose signal handlers are installed by now) shuts
          // down gracefully; before, an interrupt simply ends the process.
          InterruptPolicy.handOverToCommand()
          let port = channel.localAddress?.port ?? self.port
          startupLogger.info("\(Self.announcement(host: host, port: port, listing: list, maxConnections: configuration.limits.maxConnections))")
        }
      } catch where Self.isAddressInUse(error) {
        throw CotarError(
          .io, "cannot listen on \(Self.authority(host: host, port: port)): the port is already in use; pick another with --port (0 picks a free one)")
      } catch let error as SocketAddressError.UnknownHost {
        throw CotarError(
          .invalidArgument,
          "cannot listen on \(Self.authority(host: host, port: port)): the host name '\(error.host)' does not resolve; give --host an IP address or a name this machine resolves")
      } catch let error as SocketAddressError {
        throw CotarError(
          .invalidArgument,
          "cannot listen on \(Self.authority(host: host, port: port)): \(Self.describe(error)); give --host an IP address or a name this machine resolves")
      }
      logger.info("stopped")
    }
  }

  /// Opens one archive for serving. Local archives get their index in memory, a listing
  /// from one sequential header scan, validators from `stat`, and are reopened when their
  /// files change on disk; a remote archive keeps its index remote, is not scanned, and
  /// takes its validator from the server's ETag.
  private func open(_ location: ArchiveLocation, resolver: SourceResolver) async throws -> ServedArchive {
    var options = remote.openOptions
    options.loadIndexIntoMemory = !location.isRemote
    if !location.isRemote { return try await Self.openLocal(location, resolver: resolver, list: list, options: options) }
    let sources = try location.resolve(using: resolver)
    let names = try Self.namesSidecar(location, resolver: resolver)
    var opened = try await ServedArchive.open(
      name: Self.urlName(location.archive), sources: sources, names: names, buildListing: list, scanForListing: false,
      options: options)
    if let remote = sources.tar as? any RefreshableSource {
      if let etag = remote.pinnedETag { opened = opened.retagged(version: etag) }
      opened = opened.reopening(
        with: Self.reopener(opened.name, tar: remote, sidecar: opened.sidecar, names: names, list: list, options: options))
    }
    return opened
  }

  /// Opens a local archive, and gives it what the server needs to notice that its files
  /// (the tar or `.tar.co`, its sidecar index and name table) were replaced, modified or truncated
  /// (their `stat` differs from the one taken before opening) and to open the new version.
  private static func openLocal(
    _ location: ArchiveLocation, resolver: SourceResolver, list: Bool, options: Cotar.OpenOptions
  ) async throws -> ServedArchive {
    let localPath = { (name: String) in SourceResolver.scheme(of: name) == "file" ? String(name.dropFirst("file://".count)) : name }
    // The sidecar, given or not: one written beside a .tar later is picked up as a change; so
    // is its X.tar.names (served under /archive/<name>.names).
    let index = location.index ?? location.archive + ".index"
    let paths = [location.archive, index, namesSidecarPath(forIndex: index)].map(localPath)
    let versions = paths.map { LocalFileStamp(path: $0)?.version }
    let sources = try location.resolve(using: resolver)
    let stamp = LocalFileStamp(path: paths[0])
    let opened = try await ServedArchive.open(
      name: Self.urlName(location.archive), sources: sources, names: try namesSidecar(location, resolver: resolver),
      version: stamp?.version ?? "", lastModified: stamp?.modified,
      buildListing: list, scanForListing: true, options: options)
    return opened.reopening(
      with: { try await openLocal(location, resolver: resolver, list: list, options: options) },
      hasChanged: { paths.map { LocalFileStamp(path: $0)?.version } != versions })
  }

  /// The `X.tar.names` source of an archive with a sidecar index (beside `X.tar.index`, given
  /// or guessed; the name rule of `cotar index`), `nil` for a `.tar.co`, a presigned URL, or a
  /// local file that does not exist.
  private static func namesSidecar(_ location: ArchiveLocation, resolver: SourceResolver) throws -> (any RangeSource)? {
    let name = withoutQuery(location.archive).lowercased()
    guard !name.hasSuffix(".co"), !GzipIndexFormat.isGzipName(name) else { return nil }
    let index = location.index ?? withoutQuery(location.archive) + ".index"
    guard withoutQuery(index) == index, location.index != nil || withoutQuery(location.archive) == location.archive else { return nil }
    do {
      return try resolver.source(for: namesSidecarPath(forIndex: index))
    } catch let error as CotarError where error.code == .notFound {
      return nil
    }
  }

  /// Opens a remote archive (`http(s)://` or `s3://`) again from fresh sources, after its
  /// object changed upstream, with its listing reloaded from the new object's name table
  /// (never by a scan).
  private static func reopener(
    _ name: String, tar: any RefreshableSource, sidecar: (any RangeSource)?, names: (any RangeSource)?, list: Bool,
    options: Cotar.OpenOptions
  ) -> ServedArchive.Reopener {
    { () async throws -> ServedArchive in
      let freshTar = try tar.freshSource()
      let freshSidecar = try (sidecar as? any RefreshableSource)?.freshSource() ?? sidecar
      let freshNames = try (names as? any RefreshableSource)?.freshSource() ?? names
      var reopened = try await ServedArchive.open(
        name: name, sources: ArchiveLocation.Sources(tar: freshTar, index: freshSidecar.map { .sidecar($0) } ?? .trailing),
        names: freshNames,
        buildListing: list, scanForListing: false, options: options)
      if let etag = freshTar.pinnedETag { reopened = reopened.retagged(version: etag) }
      return reopened
    }
  }

  /// Refuses, before any archive is opened (no request upstream), archives whose URL names
  /// (``urlName(_:)``) cannot be served: two that share a name (`a.tar.co` and
  /// `https://…/a.tar.co`), or a name the routes reserve.
  ///
  /// - Throws: `ValidationError` (exit 64) naming the arguments.
  static func checkURLNames(_ archives: [String]) throws {
    var first: [String: String] = [:]
    for argument in archives {
      let name = urlName(argument)
      let shown = SourceResolver.redacted(argument)
      guard ServedArchive.isUsableName(name) else {
        throw ValidationError(
          "'\(shown)' would be served under the name '\(name)', which cannot be an archive name in URLs (empty, 'file', 'list' or containing '/'); rename the file")
      }
      if let earlier = first[name] {
        throw ValidationError(
          "'\(earlier)' and '\(shown)' would both be served as /v1/\(name)/ (archive names in URLs are file names and must differ); rename or copy one of them")
      }
      first[name] = shown
    }
  }

  /// `host:port` for a URL, an IPv6 address in brackets (`[::1]:8080`).
  static func authority(host: String, port: Int) -> String {
    host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
  }

  /// The start-up line: where the server listens and which routes it answers (`/v1/list/`
  /// only when listing is on).
  static func announcement(host: String, port: Int, listing: Bool, maxConnections: Int) -> String {
    let routes = listing ? "files at /v1/file/…, listings at /v1/list/" : "files at /v1/file/…, listing off"
    return "listening on http://\(authority(host: host, port: port))/ (\(routes); at most \(counted(maxConnections, "connection")))"
  }

  /// Whether `error` is the bind failure of a port already in use (`EADDRINUSE`).
  /// What went wrong with the `--host` address, in words.
  static func describe(_ error: SocketAddressError) -> String {
    switch error {
    case .unknown(let host, _): "the host name '\(host)' does not resolve"
    case .unsupported: "the address family is not supported"
    case .unixDomainSocketPathTooLong: "the socket path is too long"
    default: "not a usable address"
    }
  }

  static func isAddressInUse(_ error: any Error) -> Bool {
    if let error = error as? IOError { return error.errnoCode == EADDRINUSE }
    return "\(error)".contains("Address already in use")
  }

  /// The URL name of an archive: its file name (for a URL, the last path segment without
  /// user information, query or fragment).
  static func urlName(_ archive: String) -> String {
    var trimmed = Substring(SourceResolver.redacted(archive))
    while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return trimmed.split(separator: "/").last.map(String.init) ?? String(trimmed)
  }
}

/// What identifies one version of a local file: device, inode, size and modification time.
struct LocalFileStamp {
  /// Text that changes when the file is replaced or modified.
  var version: String
  /// The modification time.
  var modified: HTTPDate

  /// Stats `path`; `nil` when it is not a local file (such as a URL).
  init?(path: String) {
    guard let info = try? Syscall.status(path) else { return nil }
    let time = info.modificationTime
    version = "\(info.st_dev):\(info.st_ino):\(info.st_size):\(time.seconds).\(time.nanoseconds)"
    modified = HTTPDate(secondsSince1970: time.seconds)
  }
}

/// A remote source that can start over for the same object, having learnt nothing (no
/// pinned ETag or size): what reopening a replaced upstream object needs.
protocol RefreshableSource: RangeSource {
  /// The strong ETag pinned by the first response, if any.
  var pinnedETag: String? { get }
  /// A new source for the same object and settings.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when the location is no longer usable.
  func freshSource() throws -> any RefreshableSource
}

extension HTTPRangeSource: RefreshableSource {
  func freshSource() throws -> any RefreshableSource { try fresh() }
}

extension S3RangeSource: RefreshableSource {
  func freshSource() throws -> any RefreshableSource { try fresh() }
}
