import CotarCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A small HTTP/1.1 file server on 127.0.0.1 for tests: RFC 9110 single ranges (including
/// suffix ranges), strong ETags, `If-Match`, request counting, and switchable misbehaviour.
///
/// Files are served from memory (``put(_:_:)``) or, for large files such as the bench
/// corpus, from disk with one `pread` per request (``putFile(_:path:)``).
public final class RangeServer: Sendable {
  /// Ways the server can be told to misbehave.
  public struct Misbehaviour: Sendable {
    /// Answer every GET with 200 and the whole body, ignoring `Range`.
    public var ignoreRange = false
    /// Shift the `Content-Range` start and end by one (the body is right).
    public var wrongContentRange = false
    /// Serve `bytes=-N` as the first N bytes (labelled honestly), like some static servers.
    public var mangleSuffix = false
    /// Answer a suffix range larger than the file with 416 instead of the whole file.
    public var suffixLargerThanFileGives416 = false
    /// Answer this many next requests with 503.
    public var failNext = 0
    /// Send `Retry-After: 0` with those 503s.
    public var sendRetryAfter = false
    /// Answer this many next requests with 429.
    public var throttleNext = 0
    /// For this many next requests, send the head and half the body, then close.
    public var closeMidBodyNext = 0
    /// Never answer this many next requests (the client must time out).
    public var stallNext = 0
    /// Mark ETags weak (`W/"…"`).
    public var weakETags = false
    /// Send no ETag at all.
    public var noETags = false
    /// Do not check `If-Match` (the client must then notice the ETag change itself).
    public var ignoreIfMatch = false
    /// Require this `Authorization` value; other requests get 401.
    public var requiredAuthorization: String?
    /// Answer every range request with 206 and this `Content-Range` value verbatim (the body
    /// is the range asked for, or 16 bytes): malformed and hostile headers.
    public var contentRange: String?
    /// Answer every 200 with this `Content-Length` value verbatim and no body.
    public var contentLength: String?
    /// Send the head at once, then the body one byte per this many milliseconds.
    public var dripMilliseconds: Int?
    /// Answer requests for these paths with this status (and an empty body).
    public var statusForPath: [String: Int] = [:]
    /// Answer requests for these paths with 302 and this `Location` (absolute or relative).
    public var redirects: [String: String] = [:]
    /// Wait this many milliseconds before answering each request (a slow network).
    public var latencyMilliseconds = 0

    /// Well-behaved.
    public init() {}
  }

  /// One request as the server saw it.
  public struct Logged: Sendable, Hashable {
    /// The request path.
    public var path: String
    /// The `Range` header, if any.
    public var range: String?
    /// The `If-Match` header, if any.
    public var ifMatch: String?
    /// The `Authorization` header, if any.
    public var authorization: String?
    /// The status answered.
    public var status: Int
  }

  private struct File: Sendable {
    var content: Content
    var etag: String

    var size: UInt64 {
      switch content {
      case .memory(let bytes): UInt64(bytes.count)
      case .disk(_, let size): size
      }
    }
  }

  /// Where a file's bytes live.
  private enum Content: Sendable {
    /// Held in memory.
    case memory([UInt8])
    /// Read from disk per request (the size is fixed when the file is put).
    case disk(FileSource, size: UInt64)
  }

  private struct State: Sendable {
    var files: [String: File] = [:]
    var misbehaviour = Misbehaviour()
    var log: [Logged] = []
    var generation = 0
  }

  private let state = Mutex(State())
  private let channel: any Channel
  /// The port bound (chosen by the system).
  public let port: Int
  /// `https` when serving TLS, else `http`.
  public let scheme: String

  private init(channel: any Channel, port: Int, scheme: String) {
    self.channel = channel
    self.port = port
    self.scheme = scheme
  }

  /// Starts a server on 127.0.0.1 with a system-chosen port; with `tls` (PEM certificate
  /// chain and private key files) it speaks HTTPS.
  ///
  /// - Throws: when the port cannot be bound or the TLS files cannot be read.
  public static func start(tls: (certificate: String, key: String)? = nil) async throws -> RangeServer {
    let box = ServerBox()
    let context = try tls.map { files in
      try NIOSSLContext(
        configuration: .makeServerConfiguration(
          certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
          privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))))
    }
    let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.backlog, value: 64)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          try channel.pipeline.syncOperations.addHandler(RangeHandler(box: box))
        }
      }
    let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
    let server = RangeServer(channel: channel, port: channel.localAddress?.port ?? 0, scheme: tls == nil ? "http" : "https")
    box.server.withLock { $0 = server }
    return server
  }

  /// Closes the listening socket.
  public func stop() async {
    try? await channel.close()
  }

  /// `http://127.0.0.1:PORT/name` (`https` when serving TLS).
  public func url(_ name: String) -> String { "\(scheme)://127.0.0.1:\(port)/\(name)" }

  /// Serves `bytes` at `/name` with a new strong ETag (replacing any earlier file).
  public func put(_ name: String, _ bytes: [UInt8]) {
    state.withLock {
      $0.generation += 1
      $0.files["/" + name] = File(content: .memory(bytes), etag: "\"v\($0.generation)-\(bytes.count)\"")
    }
  }

  /// Serves the file at `path` at `/name`, reading each request's bytes with `pread`
  /// instead of holding the file in memory (replacing any earlier file). The file must not
  /// change while served.
  ///
  /// - Throws: `CotarError` `.io` when the file cannot be opened.
  public func putFile(_ name: String, path: String) async throws {
    let source = try FileSource(path: path)
    let size = try await source.size()
    state.withLock {
      $0.generation += 1
      $0.files["/" + name] = File(content: .disk(source, size: size), etag: "\"v\($0.generation)-\(size)\"")
    }
  }

  /// Changes the misbehaviour.
  public func misbehave(_ change: (inout Misbehaviour) -> Void) {
    state.withLock { change(&$0.misbehaviour) }
  }

  /// Every request so far.
  public var log: [Logged] { state.withLock { $0.log } }

  /// Number of requests so far.
  public var requestCount: Int { state.withLock { $0.log.count } }

  /// Forgets the request log.
  public func resetLog() { state.withLock { $0.log.removeAll() } }

  /// What to send for one request.
  struct Reply {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]
    var closeAfterBytes: Int?
    var stall = false
    /// Milliseconds between body bytes (a server that trickles its body).
    var drip: Int?
    /// Milliseconds to wait before answering.
    var delay = 0
    /// Bytes still to read from disk into `body`, after the state lock is released.
    var disk: (source: FileSource, range: Range<UInt64>)?
  }

  func respond(to head: HTTPRequestHead) -> Reply {
    var reply = state.withLock { state in
      var reply = Self.reply(to: head, state: &state)
      reply.drip = state.misbehaviour.dripMilliseconds
      reply.delay = state.misbehaviour.latencyMilliseconds
      state.log.append(
        Logged(
          path: head.uri, range: head.headers.first(name: "Range"), ifMatch: head.headers.first(name: "If-Match"),
          authorization: head.headers.first(name: "Authorization"), status: Int(reply.status.code)))
      return reply
    }
    if let disk = reply.disk {
      do {
        reply.body = try disk.source.readSync(disk.range)
      } catch {
        return Reply(status: .internalServerError, headers: HTTPHeaders(), body: [], closeAfterBytes: nil)
      }
    }
    return reply
  }

  private static func reply(to head: HTTPRequestHead, state: inout State) -> Reply {
    var headers = HTTPHeaders()
    var bad = state.misbehaviour
    defer { state.misbehaviour = bad }
    if let required = bad.requiredAuthorization, head.headers.first(name: "Authorization") != required {
      return Reply(status: .unauthorized, headers: headers, body: [], closeAfterBytes: nil)
    }
    if let status = bad.statusForPath[head.uri] {
      return Reply(status: HTTPResponseStatus(statusCode: status), headers: headers, body: [], closeAfterBytes: nil)
    }
    if let location = bad.redirects[head.uri] {
      headers.add(name: "Location", value: location)
      return Reply(status: .found, headers: headers, body: [], closeAfterBytes: nil)
    }
    if bad.stallNext > 0 {
      bad.stallNext -= 1
      return Reply(status: .ok, headers: headers, body: [], closeAfterBytes: nil, stall: true)
    }
    if bad.failNext > 0 {
      bad.failNext -= 1
      if bad.sendRetryAfter { headers.add(name: "Retry-After", value: "0") }
      return Reply(status: .serviceUnavailable, headers: headers, body: Array("busy".utf8), closeAfterBytes: nil)
    }
    if bad.throttleNext > 0 {
      bad.throttleNext -= 1
      return Reply(status: .tooManyRequests, headers: headers, body: [], closeAfterBytes: nil)
    }
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    guard let file = state.files[path] else {
      return Reply(status: .notFound, headers: headers, body: Array("not found".utf8), closeAfterBytes: nil)
    }
    if !bad.noETags { headers.add(name: "ETag", value: bad.weakETags ? "W/" + file.etag : file.etag) }
    headers.add(name: "Accept-Ranges", value: "bytes")
    if !bad.ignoreIfMatch, let condition = head.headers.first(name: "If-Match"), condition != "*",
      condition != file.etag
    {
      return Reply(status: .preconditionFailed, headers: headers, body: [], closeAfterBytes: nil)
    }
    let size = file.size
    /// The reply carrying bytes `range` of the file (read from disk later for a disk file).
    func reply(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ range: Range<UInt64>) -> Reply {
      var reply = Reply(status: status, headers: headers, body: [], closeAfterBytes: nil)
      if bad.closeMidBodyNext > 0 {
        bad.closeMidBodyNext -= 1
        reply.closeAfterBytes = range.count / 2
      }
      switch file.content {
      case .memory(let bytes):
        reply.body = range.count == bytes.count ? bytes : Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)])
      case .disk(let source, _): reply.disk = (source, range)
      }
      return reply
    }
    if let value = bad.contentRange, let header = head.headers.first(name: "Range") {
      headers.add(name: "Content-Range", value: value)
      let asked = parseRange(header, size: size, mangleSuffix: false, suffix416: false) ?? nil
      return reply(.partialContent, headers, asked ?? 0..<min(16, size))
    }
    guard !bad.ignoreRange, let header = head.headers.first(name: "Range") else {
      if let value = bad.contentLength {
        headers.add(name: "Content-Length", value: value)
        return Reply(status: .ok, headers: headers, body: [], closeAfterBytes: nil)
      }
      return reply(.ok, headers, 0..<size)
    }
    switch parseRange(header, size: size, mangleSuffix: bad.mangleSuffix, suffix416: bad.suffixLargerThanFileGives416) {
    case .none:
      return reply(.ok, headers, 0..<size)
    case .some(nil):
      headers.add(name: "Content-Range", value: "bytes */\(size)")
      return Reply(status: .rangeNotSatisfiable, headers: headers, body: [], closeAfterBytes: nil)
    case .some(let range?):
      let shift: UInt64 = bad.wrongContentRange ? 1 : 0
      headers.add(name: "Content-Range", value: "bytes \(range.lowerBound + shift)-\(range.upperBound - 1 + shift)/\(size)")
      return reply(.partialContent, headers, range)
    }
  }

  /// `nil`: ignore the header (serve 200); `.some(nil)`: unsatisfiable; else the range.
  static func parseRange(_ header: String, size: UInt64, mangleSuffix: Bool, suffix416: Bool) -> Range<UInt64>?? {
    guard header.hasPrefix("bytes="), !header.contains(",") else { return .none }
    let spec = header.dropFirst(6)
    let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2 else { return .none }
    if parts[0].isEmpty {
      guard let count = UInt64(parts[1]) else { return .none }
      if count == 0 || size == 0 { return .some(nil) }
      if mangleSuffix { return .some(0..<min(size, count + 1)) }
      if count > size && suffix416 { return .some(nil) }
      return .some((size - min(count, size))..<size)
    }
    guard let first = UInt64(parts[0]) else { return .none }
    if first >= size { return .some(nil) }
    if parts[1].isEmpty { return .some(first..<size) }
    guard let last = UInt64(parts[1]), last >= first else { return .none }
    return .some(first..<min(size, last + 1))
  }
}

/// Hands the server to handlers created before it existed.
final class ServerBox: Sendable {
  let server = Mutex<RangeServer?>(nil)
}

/// Per-connection handler: collects a request, answers it from the server's state.
final class RangeHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let box: ServerBox
  private var head: HTTPRequestHead?

  init(box: ServerBox) { self.box = box }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): self.head = head
    case .body: break
    case .end:
      guard let head, let server = box.server.withLock({ $0 }) else { return }
      self.head = nil
      let reply = server.respond(to: head)
      if reply.stall { return }
      if reply.delay > 0 {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(reply.delay))) {
          bound.value.0.send(reply, for: head, context: bound.value.1)
        }
        return
      }
      send(reply, for: head, context: context)
    }
  }

  /// Writes `reply` (at once, or dripping its body).
  private func send(_ reply: RangeServer.Reply, for head: HTTPRequestHead, context: ChannelHandlerContext) {
    var headers = reply.headers
    if !headers.contains(name: "Content-Length") {
      headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.count))
    }
    if let drip = reply.drip, head.method != .HEAD {
      context.writeAndFlush(
        wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
      Self.drip(reply.body[...], every: drip, context: NIOLoopBound(context, eventLoop: context.eventLoop))
      return
    }
    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
    let isHead = head.method == .HEAD
    if let cut = reply.closeAfterBytes {
      if !isHead {
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body.prefix(cut))))), promise: nil)
      }
      context.flush()
      context.close(promise: nil)
      return
    }
    if !isHead, !reply.body.isEmpty {
      context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
    }
    let keepAlive = head.isKeepAlive
    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
      if !keepAlive { bound.value.close(promise: nil) }
    }
  }

  /// Sends one byte of `rest`, then schedules the next; closes when done or the peer left.
  private static func drip(_ rest: ArraySlice<UInt8>, every milliseconds: Int, context: NIOLoopBound<ChannelHandlerContext>) {
    let context = context.value
    guard context.channel.isActive else { return }
    guard let first = rest.first else {
      context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
      return
    }
    context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: [first])))), promise: nil)
    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
      drip(rest.dropFirst(), every: milliseconds, context: bound)
    }
  }
}

/// Runs `body` with a started ``RangeServer`` and stops the server when `body` returns or
/// throws, so no test leaks a listening socket.
public func withRangeServer<Result>(_ body: (RangeServer) async throws -> Result) async throws -> Result {
  let server = try await RangeServer.start()
  do {
    let result = try await body(server)
    await server.stop()
    return result
  } catch {
    await server.stop()
    throw error
  }
}
