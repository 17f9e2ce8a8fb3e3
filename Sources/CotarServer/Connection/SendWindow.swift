import CotarCore
import Synchronization

/// Per-connection flow control between a response body producer and the socket.
///
/// The producer adds the bytes it hands to the connection (``reserve(_:)``), and the first
/// handler of the pipeline subtracts them once the socket took them (``sent(_:)``). When more
/// than ``high`` bytes are outstanding the producer waits until they fall to ``low`` — so a
/// response holds a bounded amount of memory whatever the client does, independently of
/// the buffering of the layers in between. A producer that makes no progress for the idle
/// timeout, or whose connection closed, gets an error and stops.
final class SendWindow: Sendable {
  private struct State {
    var outstanding = 0
    var closed = false
    var waiter: CheckedContinuation<Void, any Error>?
  }

  private let state = Mutex(State())
  /// Outstanding bytes above which the producer waits.
  let high: Int
  /// Outstanding bytes at which a waiting producer resumes.
  let low: Int

  init(high: Int, low: Int) {
    self.high = high
    self.low = low
  }

  /// The bytes handed over and not yet taken by the socket.
  var outstanding: Int { state.withLock { $0.outstanding } }

  /// Counts `count` bytes about to be written, waiting first while the window is full.
  ///
  /// - Throws: `CotarError` `.io` when the connection closed or stayed stalled for
  ///   `stallTimeout`; `CancellationError` when the task is cancelled.
  func reserve(_ count: Int, stallTimeout: Duration) async throws {
    while true {
      let mustWait = try state.withLock { state -> Bool in
        if state.closed { throw CotarError(.io, "the client closed the connection") }
        if state.outstanding <= high { return false }
        return true
      }
      guard mustWait else { break }
      try await waitForRoom(stallTimeout: stallTimeout)
    }
    state.withLock { $0.outstanding += count }
  }

  private func waitForRoom(stallTimeout: Duration) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        try await withTaskCancellationHandler {
          try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let resumeNow = self.state.withLock { state -> Bool in
              if state.closed || state.outstanding <= self.low { return true }
              state.waiter = continuation
              return false
            }
            if resumeNow { continuation.resume() }
          }
        } onCancel: {
          self.state.withLock { state in
            let waiter = state.waiter
            state.waiter = nil
            return waiter
          }?.resume(throwing: CancellationError())
        }
      }
      group.addTask {
        try await Task.sleep(for: stallTimeout)
        throw CotarError(.io, "the client took no bytes for \(stallTimeout)")
      }
      defer { group.cancelAll() }
      _ = try await group.next()
    }
  }

  /// The socket took `count` bytes.
  func sent(_ count: Int) {
    let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      state.outstanding = max(0, state.outstanding - count)
      guard state.outstanding <= low else { return nil }
      let waiter = state.waiter
      state.waiter = nil
      return waiter
    }
    waiter?.resume()
  }

  /// The connection closed: a waiting producer fails, later ones fail at once.
  func close() {
    let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      state.closed = true
      let waiter = state.waiter
      state.waiter = nil
      return waiter
    }
    waiter?.resume(throwing: CotarError(.io, "the client closed the connection"))
  }

  /// The window of the connection whose request the current task answers, if any.
  @TaskLocal static var current: SendWindow?
}
