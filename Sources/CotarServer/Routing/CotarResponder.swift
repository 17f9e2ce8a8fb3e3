import CotarCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The HTTP responder behind ``CotarServer``: routes, conditional requests, ranges, gzip
/// negotiation, CORS and the access log.
///
/// Routing is done here rather than with Hummingbird's `Router` so that paths are
/// percent-decoded to raw bytes (entry names need not be UTF-8) and never normalised.
public struct CotarResponder: HTTPResponder {
  /// The request context type.
  public typealias Context = BasicRequestContext

  /// The archives as currently opened, in command-line order; the first answers the
  /// single-archive routes. A remote archive with a ``ServedArchive/reopen`` closure is
  /// replaced by a fresh version when its object changes.
  public var archives: [ServedArchive] { slots.map(\.current.archive) }
  private let slots: [ArchiveSlot]
  /// The settings.
  public let configuration: CotarServerConfiguration
  /// The logger for access lines and errors.
  public let logger: Logger
  let routeNames: [(name: [UInt8], indexName: [UInt8]?)]
  /// Requests answered on the event loop by the fast path (``fastAnswer(_:)``).
  public var fastAnswers: Int { fastAnswerCount.value.load(ordering: .relaxed) }
  let fastAnswerCount = SharedCounter()
  private let lastModifiedTexts: [(HTTPDate, String)]
  /// The buffered access log, when enabled and the logger's level lets `info` through.
  let accessLogBuffer: AccessLog?
  /// The CORS policy (`--cors`), when origins are given.
  let cors: CORSPolicy?

  /// Creates a responder.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when no archive is given or two archives (or
  ///   sidecars) share a URL name.
  public init(archives: [ServedArchive], configuration: CotarServerConfiguration, logger: Logger) throws {
    guard !archives.isEmpty else { throw CotarError(.invalidArgument, "give at least one archive to serve") }
    var seen = Set<String>()
    for name in archives.flatMap({ [$0.name] + ($0.indexName.map { [$0] } ?? []) }) {
      guard seen.insert(name).inserted else {
        throw CotarError(.invalidArgument, "two archives are both named '\(name)' in URLs; rename or copy one of them")
      }
    }
    self.slots = archives.map(ArchiveSlot.init)
    self.configuration = configuration
    self.logger = logger
    self.lastModifiedTexts = archives.compactMap { $0.lastModified.map { ($0, $0.description) } }
    self.routeNames = archives.map { (Array($0.name.utf8), $0.indexName.map { Array($0.utf8) }) }
    self.cors = configuration.corsOrigins.isEmpty ? nil : CORSPolicy(origins: configuration.corsOrigins)
    self.accessLogBuffer = configuration.accessLog && logger.logLevel <= .info ? AccessLog() : nil
  }

  /// `date` as a header value; the archives' own dates are formatted once, at start.
  func lastModifiedText(_ date: HTTPDate) -> String {
    for (known, text) in lastModifiedTexts where known == date { return text }
    return date.description
  }

  /// The archive at `position` as currently opened.
  func archive(at position: Int) -> ServedArchive { slots[position].current.archive }

  /// Whether the local archive at `position` changed on disk and awaits a reopen.
  func reopenIsDue(at position: Int) -> Bool { slots[position].reopenIsDue() }

  /// Writes buffered access-log lines now (the server calls this when it stops).
  public func flushAccessLog() { accessLogBuffer?.flush() }

  /// Answers one request; never throws (failures become 4xx/5xx responses and log lines).
  public func respond(to request: Request, context: Context) async throws -> Response {
    let start = ContinuousClock.now
    var reply: Reply
    do {
      reply = try await handle(request)
    } catch {
      logger.error("\(request.method) \(request.uri.path): \(error)")
      reply = Reply(Self.error(.internalServerError, "the archive could not be read", head: request.method == .head))
    }
    cors?.apply(to: &reply.response.headers, request: request)
    if let accessLogBuffer { logAccess(&reply, request: request, start: start, to: accessLogBuffer) }
    return reply.response
  }

  // MARK: Dispatch

  /// A response and whether its body is streamed (then logged once fully written).
  struct Reply {
    var response: Response
    var streamed = false
    init(_ response: Response, streamed: Bool = false) {
      self.response = response
      self.streamed = streamed
    }
  }

  private static let allowed = "GET, HEAD, OPTIONS"

  private func handle(_ request: Request) async throws -> Reply {
    let isHead = request.method == .head
    if request.method == .options {
      if let cors, let preflight = cors.preflight(request) { return Reply(preflight) }
      var response = Response(status: .noContent)
      response.headers[.allow] = Self.allowed
      return Reply(response)
    }
    guard request.method == .get || isHead else {
      var response = Self.error(.methodNotAllowed, "only GET and HEAD are supported", head: false)
      response.headers[.allow] = Self.allowed
      return Reply(response)
    }
    if configuration.browse, request.uri.path == "/" {
      return try await directoryPage([], archive: 0, request: request)
    }
    let route: Route
    do {
      route = try Route(path: request.uri.path[...], archives: routeNames)
    } catch .notFound(let message) {
      return Reply(Self.error(.notFound, message, head: isHead))
    } catch .malformed(let message) {
      return Reply(Self.error(.badRequest, message, head: isHead))
    }
    guard let slot = route.archive.map({ slots[$0] }) else { return try await dispatch(route, archive: nil, request: request) }
    if slot.claimReopen() { await reopenAfterChangeOnDisk(slot) }
    let (archive, generation) = slot.current
    do {
      do {
        return try await dispatch(route, archive: archive, request: request)
      } catch let error as CotarError where error.code == .sourceChanged {
        // The remote object was replaced: open the new version once, and answer from it.
        guard try await slot.reopen(after: generation) else { throw error }
        logger.info("reopened \(archive.name) after a change upstream: \(error.message)")
        return try await dispatch(route, archive: slot.current.archive, request: request)
      }
    } catch let error as CotarError {
      // An upstream that failed is answered as a gateway does (502, 503, 504), not with 500.
      guard let failure = UpstreamFailure(error) else { throw error }
      logger.error("\(request.method) \(request.uri.path): \(error)")
      return Reply(Self.gatewayError(failure, head: isHead))
    }
  }

  /// The answer to a request that failed upstream: its status, `Retry-After` for 503, and
  /// the JSON error body.
  static func gatewayError(_ failure: UpstreamFailure, head: Bool) -> Response {
    var response = error(failure.status, failure.message, head: head)
    if let seconds = failure.retryAfter { response.headers[.retryAfter] = String(seconds) }
    return response
  }

  /// Opens the new version of a local archive whose files changed on disk (claimed with
  /// ``ArchiveSlot/claimReopen(now:)``); when that fails, the version opened before is still
  /// served, the failure is logged, and the next try waits a second.
  private func reopenAfterChangeOnDisk(_ slot: ArchiveSlot) async {
    let (archive, generation) = slot.current
    do {
      if try await slot.reopen(after: generation) { logger.info("reopened \(archive.name): its files changed on disk") }
    } catch {
      slot.reopenFailed()
      logger.warning("\(archive.name) changed on disk but cannot be reopened (still serving the version opened before): \(error)")
    }
  }

  private func dispatch(_ route: Route, archive served: ServedArchive?, request: Request) async throws -> Reply {
    let isHead = request.method == .head
    switch (route, served) {
    case (.health, _): return try await health(head: isHead)
    case (.file(let position, let path), let served?):
      // `?view` (or `view=true`, `yes`, …) asks for the preview page; `view=false` for the bytes.
      if configuration.browse, let value = Self.queryItems(request)["view"] {
        switch QueryFlag.parse("view", value) {
        case .success(true): return try await previewPage(path, archive: position, request: request)
        case .success(false): break
        case .failure(let refusal):
          return Reply(Self.html(.badRequest, BrowsePage.message("Bad request", refusal.message + "."), head: isHead))
        }
      }
      return try await entry(path, in: served, request: request)
    case (.list(let position, let directory), let served?):
      let offered = configuration.browse ? Self.listingTypes : [Self.listingTypes[0]]
      switch ContentNegotiation.preferredMediaType(request.headers[.accept], offered: offered) {
      case "text/html": return try await directoryPage(directory, archive: position, request: request)
      case "application/json": return list(directory, archive: served, isFirst: position == 0, request: request)
      default:
        // A listing that does not exist is a 404 whatever the client accepts.
        guard configuration.listingEnabled, served.listing != nil else {
          return Reply(Self.error(.notFound, Self.noListingReason(enabled: configuration.listingEnabled), head: isHead))
        }
        return Reply(Self.notAcceptable(offered: offered, accept: request.headers[.accept] ?? "", head: isHead))
      }
    case (.rawArchive, let served?):
      return try await rawBytes(served.tar, size: served.tarSize, of: served, request: request)
    case (.rawIndex, let served?):
      guard let sidecar = served.sidecar else { return Reply(Self.error(.notFound, "no sidecar index", head: isHead)) }
      return try await rawBytes(sidecar, size: served.sidecarSize, of: served, request: request, variant: "index")
    case (.rawNames, let served?):
      guard let names = served.namesSidecar else { return Reply(Self.error(.notFound, "no sidecar name table", head: isHead)) }
      return try await rawBytes(names, size: served.namesSidecarSize, of: served, request: request, variant: "names")
    default:
      return Reply(Self.error(.notFound, "no such archive", head: isHead))
    }
  }

  /// The representations of a listing, in the order preferred on a tie: JSON, then the HTML
  /// page (only with browsing on).
  static let listingTypes = ["application/json", "text/html"]

  /// `406 Not Acceptable` for a listing whose `Accept` header allows none of `offered`,
  /// naming them; the body is JSON (an error may be sent in a type the client did not ask for).
  static func notAcceptable(offered: [String], accept: String, head: Bool) -> Response {
    let shown = accept.count > 200 ? String(accept.prefix(200)) + "…" : accept
    let types = offered.joined(separator: " or ")
    let refusal = offered.count == 1 ? "does not accept it" : "accepts neither"
    var response = error(
      .notAcceptable, "this listing is available only as \(types); the Accept header '\(shown)' \(refusal)", head: head)
    response.headers[.vary] = "Accept"
    return response
  }

  /// `{"status":"ok",…}` when every archive answers; 503 and `"failing"` with the errors when
  /// one does not. A remote archive is asked for one byte (which also notices a replaced
  /// object, and reopens it when it can); a local one is checked with `stat` (a replaced or
  /// modified one is reopened; one that cannot be reopened is failing).
  private func health(head: Bool) async throws -> Reply {
    var failures: [String] = []
    for slot in slots {
      if slot.claimReopen() { await reopenAfterChangeOnDisk(slot) }
      let (archive, generation) = slot.current
      if slot.hasUnopenedChange {
        let error = "its files changed on disk and the new version cannot be opened (the version opened before is still served; see the log)"
        failures.append(#"{"archive":"\#(JSONText.escaped(archive.name))","error":"\#(JSONText.escaped(error))"}"#)
        continue
      }
      do {
        try await Self.probe(archive)
      } catch let error as CotarError where error.code == .sourceChanged {
        do {
          guard try await slot.reopen(after: generation) else { throw error }
          logger.info("reopened \(archive.name) after a change upstream: \(error.message)")
          try await Self.probe(slot.current.archive)
        } catch {
          failures.append(#"{"archive":"\#(JSONText.escaped(archive.name))","error":"\#(JSONText.escaped("\(error)"))"}"#)
        }
      } catch {
        failures.append(#"{"archive":"\#(JSONText.escaped(archive.name))","error":"\#(JSONText.escaped("\(error)"))"}"#)
      }
    }
    let names = slots.map { "\"\(JSONText.escaped($0.current.archive.name))\"" }.joined(separator: ",")
    guard failures.isEmpty else {
      let body = #"{"status":"failing","archives":[\#(names)],"failing":[\#(failures.joined(separator: ","))]}"#
      return Reply(Self.json(.serviceUnavailable, body, head: head))
    }
    return Reply(Self.json(.ok, #"{"status":"ok","archives":[\#(names)]}"#, head: head))
  }

  /// Reads one byte of a remote archive (a request upstream), or the size of a local one.
  private static func probe(_ archive: ServedArchive) async throws {
    if archive.tar is any SynchronousRangeSource || archive.tarSize == 0 {
      _ = try await archive.tar.size()
    } else {
      _ = try await archive.tar.read(0..<1)
    }
  }

  /// A JSON listing. Query: `recursive=true` (or `1`, `yes`, `on`; ``QueryFlag``) lists every
  /// file below the directory, and a value that is not a boolean is a `400`;
  /// `limit=N` (with `cursor=<last path>` for the following pages) pages it. Strong ETag
  /// with `304`; gzip when accepted.
  private func list(_ directory: [UInt8], archive served: ServedArchive, isFirst: Bool, request: Request) -> Reply {
    let head = request.method == .head
    guard configuration.listingEnabled, let listing = served.listing else {
      return Reply(Self.error(.notFound, Self.noListingReason(enabled: configuration.listingEnabled), head: head))
    }
    let query = Self.queryItems(request)
    var recursive = false
    if let value = query["recursive"] {
      switch QueryFlag.parse("recursive", value) {
      case .success(let flag): recursive = flag
      case .failure(let refusal): return Reply(Self.error(.badRequest, refusal.message, head: head))
      }
    }
    let cursor = query["cursor"]
    var limit: Int?
    if let text = query["limit"] {
      guard let value = Int(String(decoding: text, as: UTF8.self)), value > 0 else {
        return Reply(Self.error(.badRequest, "limit must be a positive integer", head: head))
      }
      limit = min(value, 100_000)
    }
    guard let children = listing.directory(directory, recursive: recursive) else {
      return Reply(Self.error(.notFound, "no such directory", head: head))
    }
    let gzip = ContentNegotiation.acceptsGzip(request.headers[.acceptEncoding])
    var headers: HTTPFields = [.contentType: "application/json"]
    if let cacheControl = configuration.cacheControl { headers[.cacheControl] = cacheControl }
    // Accept chooses between this, the HTML page and 406; Accept-Encoding the coding.
    headers[.vary] = "Accept, Accept-Encoding"
    // The listing is a function of the archive version, the directory, the query and the
    // base URL; the gzip form is a different representation, so it has its own tag.
    var key = children.prefix + [0] + (cursor ?? []) + [0]
    key += Array("\(recursive) \(limit ?? 0) \(configuration.baseURL)".utf8)
    let tag = EntityTag(
      opaque: "\(served.tag)-list-\(String(PathHash.fnv1a64(bytes: key), radix: 16))\(gzip ? "-gz" : "")")
    headers[.eTag] = tag.description
    if let ifNoneMatch = request.headers[.ifNoneMatch], tag.matches(ifNoneMatch: ifNoneMatch) {
      var response = Response(status: .notModified, headers: headers)
      response.headers[.contentType] = nil
      response.headers[.contentLength] = nil
      return Reply(response)
    }
    if gzip { headers[.contentEncoding] = "gzip" }
    if head {
      var response = Response(status: .ok, headers: headers)
      response.headers[.contentLength] = nil
      return Reply(response)
    }
    let body = ListingJSON(
      directory: children, baseURL: configuration.baseURL, archiveSegment: isFirst ? "" : "/" + served.name,
      chunkSize: configuration.chunkSize, cursor: cursor, limit: limit)
    let stallTimeout = configuration.limits.idleTimeout
    let responseBody =
      gzip ? Self.gzippedListingBody(body, stallTimeout: stallTimeout) : Self.listingBody(body, stallTimeout: stallTimeout)
    return Reply(Response(status: .ok, headers: headers, body: responseBody), streamed: true)
  }

  /// As ``listingBody(_:stallTimeout:)``, compressed with gzip on the way.
  static func gzippedListingBody(_ json: ListingJSON, stallTimeout: Duration = .seconds(60)) -> ResponseBody {
    ResponseBody { writer in
      let deflater = try GzipDeflater(outputChunk: json.chunkSize)
      for chunk in json {
        try await deflater.compress(Array(chunk.readableBytesView)) { piece in
          try await SendWindow.current?.reserve(piece.count, stallTimeout: stallTimeout)
          try await writer.write(ByteBuffer(bytes: piece))
        }
      }
      try await deflater.finish { piece in
        try await SendWindow.current?.reserve(piece.count, stallTimeout: stallTimeout)
        try await writer.write(ByteBuffer(bytes: piece))
      }
      try await writer.finish(nil)
    }
  }

  /// A chunked body that writes `json` one chunk at a time; each write waits for the
  /// connection to accept it, so a slow client holds back production instead of growing a
  /// buffer.
  static func listingBody(_ json: ListingJSON, stallTimeout: Duration = .seconds(60)) -> ResponseBody {
    ResponseBody { writer in
      for chunk in json {
        try await SendWindow.current?.reserve(chunk.readableBytes, stallTimeout: stallTimeout)
        try await writer.write(chunk)
      }
      try await writer.finish(nil)
    }
  }

  // MARK: Helpers

  /// Why an archive has no listing: `--no-list`, or a remote archive without a name table
  /// (listing it would read every tar header over the network, so it is not scanned).
  static func noListingReason(enabled: Bool) -> String {
    enabled
      ? "this archive has no listing: it has no name table and is not scanned (a remote archive); rebuild it with a current `cotar create` or `cotar index` to add one"
      : "listing is disabled for this archive"
  }

  /// A JSON response; for HEAD the body is left out but its length is kept.
  static func json(_ status: HTTPResponse.Status, _ text: String, head: Bool) -> Response {
    let buffer = ByteBuffer(string: text)
    var headers: HTTPFields = [.contentType: "application/json"]
    headers[.contentLength] = String(buffer.readableBytes)
    return Response(status: status, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: buffer))
  }

  /// An error in Hummingbird's JSON shape: `{"error":{"message":"…"}}`.
  static func error(_ status: HTTPResponse.Status, _ message: String, head: Bool) -> Response {
    json(status, #"{"error":{"message":"\#(JSONText.escaped(message))"}}"#, head: head)
  }

  private func logAccess(_ reply: inout Reply, request: Request, start: ContinuousClock.Instant, to logger: AccessLog) {
    let method = request.method
    let path = request.uri.path
    let status = reply.response.status.code
    guard reply.streamed else {
      let bytes = request.method == .head ? 0 : (reply.response.body.contentLength ?? 0)
      Self.logLine(logger, method: method, path: path, status: status, bytes: bytes, start: start, failure: nil)
      return
    }
    let original = reply.response.body
    reply.response.body = ResponseBody(contentLength: original.contentLength) { writer in
      let counter = ByteCounter()
      do {
        try await original.write(CountingBodyWriter(base: writer, counter: counter))
      } catch {
        Self.logLine(logger, method: method, path: path, status: status, bytes: counter.value, start: start, failure: error)
        throw error
      }
      Self.logLine(logger, method: method, path: path, status: status, bytes: counter.value, start: start, failure: nil)
    }
  }

  static func logLine(
    _ logger: AccessLog, method: HTTPRequest.Method, path: String, status: Int, bytes: Int,
    start: ContinuousClock.Instant, failure: (any Error)?
  ) {
    let elapsed = (ContinuousClock.now - start).components
    let microseconds = max(0, elapsed.seconds) &* 1_000_000 &+ elapsed.attoseconds / 1_000_000_000_000
    let fraction = microseconds % 1000
    let padding = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
    var line = "\(method) \(path) \(status) \(bytes) \(microseconds / 1000).\(padding)\(fraction)ms"
    if let failure { line += " aborted: \(failure)" }
    logger.append(line)
  }
}

extension Route {
  /// The archive a route addresses (`nil` for `/health`).
  var archive: Int? {
    switch self {
    case .file(let archive, _), .list(let archive, _), .rawArchive(let archive), .rawIndex(let archive),
      .rawNames(let archive): archive
    case .health: nil
    }
  }
}

/// A counter shared by the copies of a responder.
final class SharedCounter: Sendable {
  let value = Atomic<Int>(0)
}
