import CotarCore
import HTTPTypes
import NIOCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Answers the commonest requests on the event loop, before any HTTP decoding: a `GET` or
/// `HEAD` of a small entry of a local archive (``CotarResponder/fastAnswer(isHead:target:)``)
/// is read from the connection's bytes (``RawRequestHead``), looked up in memory and written
/// back as one buffer — the response head and one `pread` of the entry — with no HTTP/1
/// decoder or encoder, no task and no hop to another thread.
///
/// Everything else goes on to NIO's decoder and Hummingbird, byte for byte as it arrived:
/// - a complete head the fast path does not answer (a range, a conditional, a missing
///   entry…), and every head while a request of the general path is still being answered,
///   which keeps HTTP pipelining in order;
/// - from the first request the strict scan refuses (another method or version, a body,
///   unusual syntax, an oversized head) on, the rest of the connection.
///
/// Sits right after ``ConnectionGuardHandler``; it tells the connection's
/// ``ConnectionDeadlines`` when its answers leave the connection idle.
final class RawFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundIn = IOData
  typealias OutboundOut = IOData

  private let responder: CotarResponder
  private let deadlines: ConnectionDeadlines
  /// The `Server` header of fast answers, as a whole header line.
  private let serverLine: String?
  /// Input not handled yet: the start of a request head whose end has not arrived, or heads
  /// held back while the socket does not take more answers (``waitingForWritability``).
  private var pending: ByteBuffer?
  /// The channel stopped being writable with fast answers still to give: answering and reading
  /// wait until it drains, so a client that pipelines requests and reads nothing holds at most
  /// the channel's write buffer of answers, not one per request it sent.
  private var waitingForWritability = false
  /// A read was asked for while ``waitingForWritability``; it is passed on when the wait ends.
  private var readHeldBack = false
  /// Reads that ended inside the same request head (see ``patientReads``).
  private var incompleteReads = 0
  /// The decoder reads the rest of the connection (see the type's documentation).
  private var decoderOnly = false
  /// An HTTP/1.0 request was answered here or handed to the decoder, or a `414` sent: the
  /// connection closes once the answer is sent, and later bytes are dropped.
  private var closing = false
  private var dateSecond = Int.min
  private var dateLine = ""

  /// Reads a head may take to arrive before the decoder takes over the connection. Clients
  /// send a head in one or two segments; a head dribbled in byte by byte would otherwise be
  /// scanned again from its start on every read.
  static let patientReads = 8

  init(responder: CotarResponder, deadlines: ConnectionDeadlines, serverName: String?) {
    self.responder = responder
    self.deadlines = deadlines
    self.serverLine = serverName.map { "Server: \($0)\r\n" }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !closing else { return }
    guard !decoderOnly else {
      context.fireChannelRead(data)
      return
    }
    var input = unwrapInboundIn(data)
    if var held = pending.take() {
      held.writeBuffer(&input)
      input = held
    }
    if waitingForWritability {
      pending = input
      return
    }
    process(input, arrived: true, context: context)
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if waitingForWritability, context.channel.isWritable {
      waitingForWritability = false
      if let held = pending.take() { process(held, arrived: false, context: context) }
      if readHeldBack, !waitingForWritability {
        readHeldBack = false
        context.read()
      }
    }
    context.fireChannelWritabilityChanged()
  }

  func read(context: ChannelHandlerContext) {
    if waitingForWritability {
      readHeldBack = true
    } else {
      context.read()
    }
  }

  /// Answers, forwards or holds the heads in `input`. `arrived`: `input` ends with bytes that
  /// just arrived (else it is held input taken up again after a wait, outside any read).
  private func process(_ input: ByteBuffer, arrived: Bool, context: ChannelHandlerContext) {
    var input = input
    var answered = false
    var forwarded = false
    while input.readableBytes > 0, !closing {
      let scan = input.withUnsafeReadableBytes { RawRequestHead.scan($0) }
      switch scan {
      case .incomplete where incompleteReads < Self.patientReads:
        if arrived { incompleteReads += 1 }
        pending = input
        input.clear()
      case .incomplete, .undecodable:
        decoderOnly = true
        forwarded = true
        context.fireChannelRead(wrapInboundOut(input))
        input.clear()
      case .targetTooLong where deadlines.requestsInFlight > 0:
        // The general path is still answering: the decoder takes over, keeping the order
        // (``RequestHeadCheckHandler`` answers 414 there).
        decoderOnly = true
        forwarded = true
        context.fireChannelRead(wrapInboundOut(input))
        input.clear()
      case .targetTooLong:
        if answered { context.flush() }
        answered = false
        refuseTargetTooLong(isHead: input.readableBytesView.starts(with: "HEAD ".utf8), context: context)
        input.clear()
      case .general(let length, let closes):
        incompleteReads = 0
        forwarded = true
        forward(length, of: &input, closing: closes, context: context)
      case .fast(let head):
        incompleteReads = 0
        if deadlines.requestsInFlight == 0, !context.channel.isWritable {
          waitingForWritability = true
          pending = input
          input.clear()
        } else if deadlines.requestsInFlight == 0, answer(head, context: context) {
          answered = true
          input.moveReaderIndex(forwardBy: head.length)
        } else {
          forwarded = true
          forward(head.length, of: &input, closing: head.closes, context: context)
        }
      }
    }
    // Outside a read, the handlers behind get the read-complete event a read would have
    // ended with: NIO's async channel hands on what it received only then.
    if forwarded, !arrived { context.fireChannelReadComplete() }
    if answered { context.flush() }
    guard !closing else { return }
    if waitingForWritability {
      deadlines.waitingToSend()
    } else if pending != nil {
      if !arrived { deadlines.partialHeadTakenUp() }
    } else if answered {
      deadlines.answeredWithoutDecoding()
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    pending = nil
    context.fireChannelInactive()
  }

  /// Hands the next `length` bytes (one whole request head) to the decoder. With `closing` (an
  /// HTTP/1.0 head) the connection ends with its answer (``HTTP10Handler`` has Hummingbird
  /// close it), so the bytes after it are dropped: they are never answered, here or there.
  private func forward(_ length: Int, of input: inout ByteBuffer, closing: Bool, context: ChannelHandlerContext) {
    guard let head = input.readSlice(length: length) else { return }
    if closing {
      self.closing = true
      pending = nil
    }
    context.fireChannelRead(wrapInboundOut(head))
  }

  private static let connectionClose = "Connection: close\r\n"

  /// Answers `414 URI Too Long` (without its body to `HEAD`) and closes: the output at once, the connection when the
  /// client closes its side or the idle timeout ends it. The rest of the request (the tail of
  /// the target, the headers) is read and dropped, so that the answer is read by the client
  /// rather than lost to a reset caused by unread bytes.
  private func refuseTargetTooLong(isHead: Bool, context: ChannelHandlerContext) {
    closing = true
    pending = nil
    let answer = context.channel.allocator.buffer(
      string: isHead ? RawRequestHead.targetTooLongHead : RawRequestHead.targetTooLongAnswer)
    let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
    context.writeAndFlush(wrapOutboundOut(.byteBuffer(answer))).whenComplete { _ in
      boundContext.value.close(mode: .output, promise: nil)
    }
    deadlines.answeredWithoutDecoding()
  }

  /// Writes the fast answer to `head`, if it has one; `false` sends it to the general path.
  private func answer(_ head: RawRequestHead, context: ChannelHandlerContext) -> Bool {
    let start = ContinuousClock.now
    guard let answer = responder.fastAnswer(isHead: head.isHead, target: head.target) else { return false }
    var output = context.channel.allocator.buffer(capacity: 320 + (answer.body?.count ?? 0))
    output.writeString("HTTP/1.1 \(answer.head.status.code) \(answer.head.status.reasonPhrase)\r\n")
    for field in answer.head.headerFields {
      output.writeString(field.name.rawName)
      output.writeStaticString(": ")
      output.writeString(field.value)
      output.writeStaticString("\r\n")
    }
    output.writeString(date())
    if let serverLine { output.writeString(serverLine) }
    if head.closes { output.writeString(Self.connectionClose) }
    output.writeStaticString("\r\n")
    do {
      try answer.writeBody(into: &output)
    } catch {
      return false  // the general path reads again and reports the failure
    }
    responder.fastAnswerCount.value.add(1, ordering: .relaxed)
    if head.closes {
      closing = true
      pending = nil
      let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
      context.writeAndFlush(wrapOutboundOut(.byteBuffer(output))).whenComplete { _ in boundContext.value.close(promise: nil) }
    } else {
      context.write(wrapOutboundOut(.byteBuffer(output)), promise: nil)
    }
    responder.logFastAnswer(isHead: head.isHead, target: head.target, answer, start: start)
    return true
  }

  /// The `Date` header line, formatted once a second.
  private func date() -> String {
    let now = time(nil)
    if now != dateSecond {
      dateSecond = now
      dateLine = "Date: \(HTTPDate(secondsSince1970: Int64(now)).description)\r\n"
    }
    return dateLine
  }
}
