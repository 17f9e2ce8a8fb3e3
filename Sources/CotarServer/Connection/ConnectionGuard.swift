import NIOCore
import NIOHTTPTypes
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The number of open connections, shared by every connection of one server.
final class ConnectionCounter: Sendable {
  private let count = Atomic<Int>(0)
  private let refusing = Atomic<Int>(0)

  /// Refused connections that may linger at once to deliver their `503`; beyond this they
  /// are closed at once, so refusals never use up the descriptors kept in reserve.
  static let lingeringRefusals = 16

  /// Counts a refused connection that lingers to deliver its `503`; `false` when too many do.
  func startRefusal() -> Bool {
    if refusing.add(1, ordering: .relaxed).newValue <= Self.lingeringRefusals { return true }
    refusing.subtract(1, ordering: .relaxed)
    return false
  }

  /// A lingering refused connection closed.
  func endRefusal() { refusing.subtract(1, ordering: .relaxed) }

  /// Counts a new connection and returns the count including it.
  func open() -> Int { count.add(1, ordering: .relaxed).newValue }

  /// Counts a closed connection; when it was the last one, returns freed heap memory to the
  /// system (glibc keeps it otherwise, so RSS would stay at its peak after a burst).
  func close() {
    guard count.subtract(1, ordering: .relaxed).newValue == 0 else { return }
    HeapTrim.trim()
  }

  /// The connections open now.
  var value: Int { count.load(ordering: .relaxed) }
}

/// The per-connection deadlines of ``ConnectionGuardHandler`` and ``RequestCycleHandler``:
/// where the connection is in its request cycle and the one timer that may close it.
///
/// Used only on the connection's event loop.
final class ConnectionDeadlines {
  enum Phase {
    /// Waiting for the first byte of a request (keep-alive idle): `idleTimeout`.
    case awaitingRequest
    /// Bytes of a request head arrived but not the whole head: `requestHeadTimeout`.
    case readingHead
    /// A request is being answered: no deadline (a stalled write has its own timer).
    case responding
  }

  let limits: CotarServerConfiguration.ConnectionLimits
  private(set) var phase = Phase.awaitingRequest
  private var openRequests = 0
  /// When the current phase's limit runs out (`nil` while responding).
  private var deadline: NIODeadline?
  /// The one scheduled check, and when it runs; it closes the connection if ``deadline``
  /// has passed by then, and else schedules itself again for it. Phases move the deadline
  /// on every request, but the timer is rescheduled only when the deadline comes earlier
  /// than the check (so a busy keep-alive connection costs no timer work per request).
  private var timer: Scheduled<Void>?
  private var timerDeadline: NIODeadline?
  private var writeStallTimer: Scheduled<Void>?
  private var channel: (any Channel)?

  init(limits: CotarServerConfiguration.ConnectionLimits) { self.limits = limits }

  /// Requests whose head arrived and whose response has not ended.
  var requestsInFlight: Int { openRequests }

  /// Starts the idle timer of a new connection.
  func start(_ channel: any Channel) {
    self.channel = channel
    enter(.awaitingRequest)
  }

  /// Bytes arrived from the client.
  func bytesArrived() {
    if phase == .awaitingRequest { enter(.readingHead) }
  }

  /// A whole request head was decoded.
  func headReceived() {
    openRequests += 1
    enter(.responding)
  }

  /// Requests were answered before decoding (``RawFastPathHandler``) and no partial head is
  /// left: unless the general path is still answering one, the connection is idle.
  func answeredWithoutDecoding() {
    if openRequests == 0 { enter(.awaitingRequest) }
  }

  /// Fast answers wait for the socket to drain (``RawFastPathHandler``): no request
  /// deadline runs meanwhile; a socket that stays full closes by the write-stall timer
  /// (``writabilityChanged(_:)``).
  func waitingToSend() { enter(.responding) }

  /// After such a wait, the rest of the held input is the start of a head: it gets a whole
  /// request-head timeout from now.
  func partialHeadTakenUp() {
    if openRequests == 0 { enter(.readingHead) }
  }

  /// The end of a response was written.
  func responseEnded() {
    openRequests = max(0, openRequests - 1)
    if openRequests == 0 { enter(.awaitingRequest) }
  }

  /// The socket's send buffer filled up (`writable == false`) or drained.
  func writabilityChanged(_ writable: Bool) {
    writeStallTimer?.cancel()
    writeStallTimer = nil
    guard !writable, let channel else { return }
    writeStallTimer = channel.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: limits.idleTimeout.timeAmount) {
      channel.close(promise: nil)
    }
  }

  /// Cancels every timer (the connection closed).
  func stop() {
    timer?.cancel()
    writeStallTimer?.cancel()
    timer = nil
    timerDeadline = nil
    deadline = nil
    writeStallTimer = nil
    channel = nil
  }

  private func enter(_ next: Phase) {
    phase = next
    let limit: Duration
    switch next {
    case .awaitingRequest: limit = limits.idleTimeout
    case .readingHead: limit = limits.requestHeadTimeout
    case .responding:
      deadline = nil
      return
    }
    let next = NIODeadline.now() + limit.timeAmount
    deadline = next
    if let timerDeadline, timerDeadline <= next { return }
    timer?.cancel()
    schedule(at: next)
  }

  private func schedule(at when: NIODeadline) {
    guard let channel else { return }
    timerDeadline = when
    timer = channel.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: when) { [self] in
      timer = nil
      timerDeadline = nil
      guard let deadline else { return }
      if deadline <= .now() {
        channel.close(promise: nil)
      } else {
        schedule(at: deadline)
      }
    }
  }
}

/// The first handler of every connection (raw bytes, before HTTP decoding): counts
/// connections and sheds those above the cap with a `503`, notes the first byte of each
/// request for the head timeout, and closes a connection whose client takes no response
/// bytes for the idle timeout.
///
/// It also tells the connection's ``SendWindow`` when the socket took response bytes.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = IOData
  typealias OutboundOut = IOData

  private let deadlines: ConnectionDeadlines
  private let counter: ConnectionCounter
  /// The flow control of this connection's response bodies.
  let window: SendWindow
  private var counted = false
  private var shed = false
  private var refusing = false

  init(deadlines: ConnectionDeadlines, counter: ConnectionCounter, window: SendWindow) {
    self.deadlines = deadlines
    self.counter = counter
    self.window = window
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    // Only bytes counted by `reserve` are waited for; with none outstanding (every small
    // response, whose body is written whole) the write needs no completion callback.
    guard window.outstanding > 0 else {
      context.write(data, promise: promise)
      return
    }
    let count = unwrapOutboundIn(data).readableBytes
    let written = promise ?? context.eventLoop.makePromise()
    let window = self.window
    written.futureResult.whenComplete { _ in window.sent(count) }
    context.write(data, promise: written)
  }

  /// The whole answer to a connection above the cap.
  static let overloaded: String = {
    let body = #"{"error":{"message":"too many connections; retry in a moment"}}"#
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
      + "Retry-After: 1\r\nConnection: close\r\n\r\n" + body
  }()

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { activate(context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    activate(context)
    if !shed { context.fireChannelActive() }
  }

  private func activate(_ context: ChannelHandlerContext) {
    guard !counted else { return }
    counted = true
    if counter.open() > deadlines.limits.maxConnections {
      shed = true
      guard counter.startRefusal() else {
        context.close(promise: nil)
        return
      }
      refusing = true
      let buffer = context.channel.allocator.buffer(string: Self.overloaded)
      // Half-close after the refusal and discard what the client sends until it closes, so
      // the refusal is read rather than lost to a reset caused by unread request bytes.
      let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
      context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer))).whenComplete { _ in
        boundContext.value.close(mode: .output, promise: nil)
      }
      // Never wait long on a client that does not read the refusal.
      let channel = context.channel
      _ = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .milliseconds(500)) {
        channel.close(promise: nil)
      }
      return
    }
    deadlines.start(context.channel)
  }

  func channelInactive(context: ChannelHandlerContext) {
    if counted {
      counted = false
      counter.close()
    }
    if refusing {
      refusing = false
      counter.endRefusal()
    }
    deadlines.stop()
    window.close()
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !shed else { return }
    deadlines.bytesArrived()
    context.fireChannelRead(data)
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    deadlines.writabilityChanged(context.channel.isWritable)
    context.fireChannelWritabilityChanged()
  }
}

/// Sits after HTTP decoding: tells ``ConnectionDeadlines`` when a request head is complete
/// and when its response has ended.
final class RequestCycleHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  private let deadlines: NIOLoopBound<ConnectionDeadlines>

  init(deadlines: NIOLoopBound<ConnectionDeadlines>) { self.deadlines = deadlines }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .head = unwrapInboundIn(data) { deadlines.value.headReceived() }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if case .end = unwrapOutboundIn(data) { deadlines.value.responseEnded() }
    context.write(data, promise: promise)
  }
}

extension Duration {
  /// The same span as a NIO `TimeAmount` (nanosecond precision, saturating).
  var timeAmount: TimeAmount {
    let (seconds, attoseconds) = components
    let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    guard !nanos.overflow else { return .nanoseconds(Int64.max) }
    return .nanoseconds(nanos.partialValue &+ attoseconds / 1_000_000_000)
  }
}

/// `malloc_trim(0)` where glibc provides it (looked up at run time; not in Swift's Glibc
/// module).
enum HeapTrim {
  #if canImport(Glibc)
    private typealias Function = @convention(c) (Int) -> Int32
    private static let function: Function? = {
      guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
      return unsafeBitCast(symbol, to: Function.self)
    }()
  #endif

  /// Returns free heap pages to the system; does nothing elsewhere.
  static func trim() {
    #if canImport(Glibc)
      _ = function?(0)
    #endif
  }
}
