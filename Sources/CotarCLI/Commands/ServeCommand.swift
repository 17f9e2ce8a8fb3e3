import ArgumentParser
import CotarCore
import CotarHTTP
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
      for each archive, GET|HEAD /archive/<name> (raw archive bytes, for remote readers), GET /health.
      Stops gracefully on SIGINT or SIGTERM.
      """)

  @Argument(
    help: "One or more .tar.co files, or .tar files with a .tar.index sidecar: paths or http(s):// URLs.",
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

  @Option(name: .customLong("chunk-size"), help: ArgumentHelp("Bytes read from the archive and sent per write.", valueName: "bytes"))
  var chunkSize = 64 << 10

  @Flag(help: "Do not log one line per request.")
  var quiet = false

  func validate() throws {
    guard !archives.isEmpty else { throw ValidationError("give at least one archive") }
    if index != nil, archives.count > 1 { throw ValidationError("--index needs exactly one archive") }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
    guard (4096...(64 << 20)).contains(chunkSize) else {
      throw ValidationError("--chunk-size must be from 4096 to 67108864 (64 MiB), got \(chunkSize)")
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
        let opened = try await open(location.archive, sources: try location.resolve(using: session.resolver))
        let listed = opened.listing.map { ", \($0.count) files listed" } ?? (list ? ", not listed (remote)" : "")
        logger.info("opened \(opened.tar.identity) as /v1/\(opened.name)/ in \(start.duration(to: .now))\(listed)")
        served.append(opened)
      }
      let configuration = CotarServerConfiguration(
        host: host, port: port, cacheControl: cacheControl.isEmpty ? nil : cacheControl, corsOrigins: cors,
        baseURL: baseURL, chunkSize: chunkSize, listingEnabled: list, accessLog: !quiet)
      let server = try CotarServer(archives: served, configuration: configuration, logger: logger)
      let startupLogger = logger
      try await server.run { channel in
        // From here the service group (whose signal handlers are installed by now) shuts
        // down gracefully; before, an interrupt simply ends the process.
        InterruptPolicy.handOverToCommand()
        let port = channel.localAddress?.port ?? self.port
        startupLogger.info("listening on http://\(host):\(port)/v1/list")
      }
      logger.info("stopped")
    }
  }

  /// Opens one archive for serving. Local archives get their index in memory, a listing
  /// from one sequential header scan, and validators from `stat`; a remote archive keeps its
  /// index remote, is not scanned, and takes its validator from the server's ETag.
  private func open(_ archive: String, sources: ArchiveLocation.Sources) async throws -> ServedArchive {
    let stamp = SourceResolver.isRemote(archive) ? nil : LocalFileStamp(path: archive)
    let isLocal = stamp != nil
    var options = remote.openOptions
    options.loadIndexIntoMemory = isLocal
    var opened = try await ServedArchive.open(
      name: Self.urlName(archive), sources: sources, version: stamp?.version ?? "", lastModified: stamp?.modified,
      buildListing: list, scanForListing: isLocal, options: options)
    if let remote = sources.tar as? HTTPRangeSource {
      if let etag = remote.pinnedETag { opened = opened.retagged(version: etag) }
      opened = opened.reopening(with: Self.reopener(opened.name, tar: remote, sidecar: opened.sidecar, options: options))
    }
    return opened
  }

  /// Opens a remote archive again from fresh sources (after its object changed upstream).
  private static func reopener(
    _ name: String, tar: HTTPRangeSource, sidecar: (any RangeSource)?, options: Cotar.OpenOptions
  ) -> ServedArchive.Reopener {
    { () async throws -> ServedArchive in
      let freshTar = try tar.fresh()
      let freshSidecar = try (sidecar as? HTTPRangeSource)?.fresh() ?? sidecar
      var reopened = try await ServedArchive.open(
        name: name, tar: freshTar, sidecar: freshSidecar, buildListing: false, options: options)
      if let etag = freshTar.pinnedETag { reopened = reopened.retagged(version: etag) }
      return reopened
    }
  }

  /// The URL name of an archive: its file name (for a URL, the last path segment without
  /// query or fragment).
  static func urlName(_ archive: String) -> String {
    var trimmed = Substring(archive)
    if let cut = trimmed.firstIndex(where: { $0 == "?" || $0 == "#" }), archive.contains("://") {
      trimmed = trimmed[..<cut]
    }
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
