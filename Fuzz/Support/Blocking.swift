// For targets that call async library code: libFuzzer's entry point is synchronous.
import Dispatch

/// Holds the result of a task for the thread waiting on it.
final class ResultBox<T: Sendable>: @unchecked Sendable {
  var result: Result<T, any Error>?
}

/// Runs `body` to completion on the concurrency pool and returns its result.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
  let box = ResultBox<T>()
  let done = DispatchSemaphore(value: 0)
  Task {
    do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
    done.signal()
  }
  done.wait()
  guard let result = box.result else { fatalError("runBlocking: task finished without a result") }
  return result
}
