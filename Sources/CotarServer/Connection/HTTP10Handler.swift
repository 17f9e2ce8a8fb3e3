import NIOCore
import NIOHTTP1

/// Answers HTTP/1.0 requests on the general path as HTTP/1.0 clients read them: the body
/// delimited by the end of the connection (or by its `Content-Length`), never chunked, with
/// `Connection: close`, and the connection closed after the answer.
///
/// Cotar keeps no HTTP/1.0 connection alive, whatever the request's `Connection` header
/// says (the fast path, ``RawFastPathHandler``, answers the same). RFC 9112 §6.1: a server
/// must not send `Transfer-Encoding` to a request below HTTP/1.1. Hummingbird passes no
/// request version to its responses (every response head is HTTP/1.1 when it reaches NIO's
/// encoder, which then frames a body without `Content-Length` as chunked), so this handler,
/// between the decoder and Hummingbird, keeps the versions of the requests in order and:
/// - gives Hummingbird each HTTP/1.0 head with `Connection: close` as its only `Connection`
///   field, so that Hummingbird closes the connection (its output, then all of it once the
///   client has read to the end) after answering it and reads no further request;
/// - hands the encoder the answer's head as HTTP/1.0 with `Connection: close` and without
///   `Transfer-Encoding`, so the encoder frames the body by the connection's end;
/// - has ``HTTP10StatusLineHandler`` write that head's status line as `HTTP/1.1` again
///   (RFC 9110 §2.5: a server sends the highest minor version it conforms to).
final class HTTP10Handler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// Writes the encoded heads' status lines as HTTP/1.1.
  private let statusLine: HTTP10StatusLineHandler
  /// For each request passed on and not answered yet, in order: whether it is below HTTP/1.1.
  private var unanswered = CircularBuffer<Bool>()

  /// A handler whose HTTP/1.0 answers get their status line back from `statusLine`, which sits
  /// right after NIO's response encoder.
  init(statusLine: HTTP10StatusLineHandler) {
    self.statusLine = statusLine
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard case .head(var head) = unwrapInboundIn(data) else {
      context.fireChannelRead(data)
      return
    }
    let isHTTP10 = Self.isBelowHTTP11(head.version)
    unanswered.append(isHTTP10)
    if isHTTP10 { head.headers.replaceOrAdd(name: "Connection", value: "close") }
    context.fireChannelRead(wrapInboundOut(.head(head)))
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    guard case .head(var response) = unwrapOutboundIn(data) else {
      context.write(data, promise: promise)
      return
    }
    // An interim answer (`100 Continue`) leaves the request waiting for its final one.
    let code = response.status.code
    guard !(100..<200).contains(code) || code == 101, unanswered.popFirst() == true else {
      context.write(data, promise: promise)
      return
    }
    response.version = .http1_0
    response.headers.remove(name: "transfer-encoding")
    response.headers.replaceOrAdd(name: "Connection", value: "close")
    statusLine.nextHeadIsHTTP10 = true
    context.write(wrapOutboundOut(.head(response)), promise: promise)
    statusLine.nextHeadIsHTTP10 = false
  }

  /// HTTP/1.0 (or 0.9): a version without chunked coding or persistent connections by default.
  static func isBelowHTTP11(_ version: HTTPVersion) -> Bool {
    version.major < 1 || (version.major == 1 && version.minor == 0)
  }
}

/// Turns the status line of an HTTP/1.0 answer's head back into `HTTP/1.1` as NIO's response
/// encoder writes it (see ``HTTP10Handler``); every other write passes unchanged. Sits right
/// after the encoder, which writes a head as one buffer in the same call it is given it.
final class HTTP10StatusLineHandler: ChannelOutboundHandler, RemovableChannelHandler {
  typealias OutboundIn = IOData
  typealias OutboundOut = IOData

  /// Set by ``HTTP10Handler`` while it hands the encoder an HTTP/1.0 head.
  var nextHeadIsHTTP10 = false

  private static let http10Prefix = Array("HTTP/1.0 ".utf8)

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    guard nextHeadIsHTTP10, case .byteBuffer(var buffer) = unwrapOutboundIn(data),
      buffer.readableBytesView.starts(with: Self.http10Prefix)
    else {
      context.write(data, promise: promise)
      return
    }
    nextHeadIsHTTP10 = false
    buffer.setInteger(UInt8(ascii: "1"), at: buffer.readerIndex + 7)
    context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
  }
}
