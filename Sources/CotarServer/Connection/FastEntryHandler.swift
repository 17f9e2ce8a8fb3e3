import CotarCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Answers the commonest requests on the event loop (``CotarResponder/fastAnswer(_:)``):
/// a small entry of a local archive is one index probe in memory and one `pread`, with no
/// task, no hop to another thread and no per-request logger. Everything else, and every
/// request while another on the same connection is still being answered (HTTP pipelining
/// keeps its order), goes on to Hummingbird and ``CotarResponder``.
///
/// Sits after ``RequestCycleHandler``, so the deadlines see fast requests too.
final class FastEntryHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  private let responder: CotarResponder
  private let deadlines: NIOLoopBound<ConnectionDeadlines>
  private let serverName: String?
  /// Dropping the body parts of a request answered here, until its `.end`.
  private var discarding = false
  private var dateSecond = Int.min
  private var dateText = ""

  init(responder: CotarResponder, deadlines: NIOLoopBound<ConnectionDeadlines>, serverName: String?) {
    self.responder = responder
    self.deadlines = deadlines
    self.serverName = serverName
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    switch part {
    case .head(let request):
      let start = ContinuousClock.now
      // Only when no earlier request of this connection is still in the general path.
      guard deadlines.value.requestsInFlight == 1, let answer = try? responder.fastAnswer(request) else { break }
      var head = answer.head
      head.headerFields[.date] = date()
      if let serverName { head.headerFields[.server] = serverName }
      discarding = true
      responder.fastAnswerCount.value.add(1, ordering: .relaxed)
      context.write(wrapOutboundOut(.head(head)), promise: nil)
      if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
      context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
      responder.logFastAnswer(request, answer, start: start)
      return
    case .body, .end:
      guard discarding else { break }
      if case .end = part { discarding = false }
      return
    }
    context.fireChannelRead(data)
  }

  /// The `Date` header, formatted once a second.
  private func date() -> String {
    let now = time(nil)
    if now != dateSecond {
      dateSecond = now
      dateText = HTTPDate(secondsSince1970: Int64(now)).description
    }
    return dateText
  }
}
