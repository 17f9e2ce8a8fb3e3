import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1.1 child channel with ``ConnectionGuardHandler`` and the fast path
/// (``RawFastPathHandler``) in front and ``RequestCycleHandler`` after decoding, so every connection has an idle timeout, a
/// request-head timeout, a write-stall timeout and a place under the connection cap;
/// ``RequestHeadCheckHandler`` refuses heads HTTP/1.1 says to refuse, and ``HTTP10Handler``
/// answers HTTP/1.0 requests without chunked coding and closes their connections.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
  typealias Value = HTTP1Channel.Value

  let responder: HTTPChannelHandler.Responder
  let limits: CotarServerConfiguration.ConnectionLimits
  let counter: ConnectionCounter
  /// Outstanding response bytes above which a body producer waits (``SendWindow``).
  let windowBytes: Int
  /// Answers small entries on the event loop (``RawFastPathHandler``), when given.
  var fastResponder: CotarResponder? = nil
  /// The `Server` header of fast answers.
  var serverName: String? = nil

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    let deadlines: NIOLoopBound<ConnectionDeadlines>
    do {
      let state = ConnectionDeadlines(limits: limits)
      deadlines = NIOLoopBound(state, eventLoop: channel.eventLoop)
      let window = SendWindow(high: windowBytes, low: windowBytes / 2)
      let fastPath = fastResponder.map { RawFastPathHandler(responder: $0, deadlines: state, serverName: serverName) }
      try channel.pipeline.syncOperations.addHandlers(
        [ConnectionGuardHandler(deadlines: state, counter: counter, window: window)] + (fastPath.map { [$0] } ?? []),
        position: .first)
    } catch {
      return channel.eventLoop.makeFailedFuture(error)
    }
    let inner = HTTP1Channel(
      responder: responder,
      configuration: HTTP1Channel.Configuration(
        additionalChannelHandlers: [RequestCycleHandler(deadlines: deadlines)]))
    return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
      // Behind the decoder (and its pipelining handler, which keeps answers in order): heads
      // HTTP/1.1 says to refuse are answered there, before Hummingbird sees them.
      let operations = channel.pipeline.syncOperations
      let decoded: any ChannelHandler
      if let pipelining = try? operations.handler(type: HTTPServerPipelineHandler.self) {
        decoded = pipelining
      } else {
        decoded = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
      }
      try operations.addHandler(RequestHeadCheckHandler(), position: .after(decoded))
      // Right behind the decoder, so that it sees every head and every answer (the refusals
      // of RequestHeadCheckHandler too); its partner right after the encoder.
      let statusLine = HTTP10StatusLineHandler()
      try operations.addHandler(HTTP10Handler(statusLine: statusLine), position: .after(decoded))
      let encoder = try operations.handler(type: HTTPResponseEncoder.self)
      try operations.addHandler(statusLine, position: .before(encoder))
      return value
    }
  }

  /// Answers the connection's requests with its ``SendWindow`` as the task-local
  /// ``SendWindow/current``, which response bodies wait on.
  func handle(value: Value, logger: Logger) async {
    let channel = value.channel
    let window = try? await channel.eventLoop.submit {
      try channel.pipeline.syncOperations.handler(type: ConnectionGuardHandler.self).window
    }.get()
    await SendWindow.$current.withValue(window) {
      await handleHTTP(asyncChannel: value, logger: logger)
    }
  }
}
