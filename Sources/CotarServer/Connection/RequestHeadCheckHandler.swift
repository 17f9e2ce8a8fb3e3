import NIOCore
import NIOHTTP1

/// Refuses, on the general path, request heads that HTTP/1.1 says a server must refuse,
/// before Hummingbird sees them: an HTTP/1.1 request without exactly one `Host` field (400,
/// RFC 9112 §3.2) and a request target longer than ``RawRequestHead/maximumTargetLength``
/// (414 URI Too Long). The answer has a short JSON body (none to `HEAD`), and the connection
/// closes after it; the requests before it are answered first, in order.
///
/// The fast path (``RawFastPathHandler``) refuses long targets before decoding and hands heads
/// without `Host` here; this handler sees every head the decoder reads. A target over the
/// decoder's own limit (80 KiB for the whole head) fails in the decoder first, and Hummingbird
/// answers that with an empty 400.
final class RequestHeadCheckHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// The refusal to send once the requests before it are answered.
  private var refusal: Refusal?
  /// Requests passed on whose response has not ended yet.
  private var open = 0

  /// A refused head's answer.
  struct Refusal: Equatable {
    /// `400` or `414`.
    var status: HTTPResponseStatus
    /// The message of the JSON body.
    var message: String
    /// The request was a `HEAD`: no body.
    var isHead: Bool
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard refusal == nil else { return }  // the connection closes after the refusal
    if case .head(let head) = unwrapInboundIn(data) {
      if let refused = Self.refusal(of: head) {
        refusal = refused
        if open == 0 { refuse(context: context) }
        return
      }
      open += 1
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    guard case .end = unwrapOutboundIn(data) else {
      context.write(data, promise: promise)
      return
    }
    open = max(open - 1, 0)
    context.write(data, promise: promise)
    if open == 0, refusal != nil { refuse(context: context) }
  }

  /// The refusal of `head`, or `nil` when it may be answered.
  static func refusal(of head: HTTPRequestHead) -> Refusal? {
    let isHead = head.method == .HEAD
    if head.uri.utf8.count > RawRequestHead.maximumTargetLength {
      return Refusal(status: .uriTooLong, message: RawRequestHead.targetTooLongMessage, isHead: isHead)
    }
    let hosts = head.headers["host"].count
    if head.version.major == 1, head.version.minor >= 1, hosts != 1 {
      let message = hosts == 0 ? RawRequestHead.missingHostMessage : RawRequestHead.manyHostsMessage
      return Refusal(status: .badRequest, message: message, isHead: isHead)
    }
    return nil
  }

  /// Writes the refusal and closes the connection.
  private func refuse(context: ChannelHandlerContext) {
    guard let refusal else { return }
    let body = RawRequestHead.errorBody(refusal.message)
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: "application/json")
    headers.add(name: "Content-Length", value: String(body.utf8.count))
    headers.add(name: "Connection", value: "close")
    let head = HTTPResponseHead(version: .http1_1, status: refusal.status, headers: headers)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    if !refusal.isHead {
      context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
    }
    let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in boundContext.value.close(promise: nil) }
  }
}
