import AsyncHTTPClient
import CotarCore
import NIOCore
import NIOHTTP1
import Synchronization

/// A `RangeSource` over HTTP(S) range requests, for archives on web servers and object stores.
///
/// Every read is one `GET` with a `Range` header. Responses are checked, not trusted:
/// - a 206 is accepted only when its `Content-Range` is exactly the range asked for (some
///   servers answer `bytes=-N` with the *first* N bytes; a suffix read then falls back to an
///   explicit range at the size the server reported);
/// - a 200 (range ignored) is accepted only for objects of at most
///   ``HTTPRangeSourceConfiguration/maximumUnrangedBytes``, and then kept so later reads cost
///   nothing; otherwise the read fails with `.rangeNotHonoured`;
/// - a 416 with `Content-Range: bytes */N` gives the size of an object smaller than a
///   speculative read, which is then retried within it.
///
/// The first strong `ETag` seen is pinned and sent as `If-Match` on every later request; a
/// 412 or a different ETag fails with `.sourceChanged`, so bytes of two versions are never
/// mixed. Weak ETags are ignored. Connection errors, timeouts, 429 and 5xx are retried with
/// backoff (``RetryPolicy``). The source counts its requests and bytes (``statistics``).
public final class HTTPRangeSource: RangeSource {
  private struct State {
    var size: UInt64?
    var etag: String?
    var wholeBody: [UInt8]?
    var statistics = HTTPSourceStatistics()
  }

  /// The URL as given (it may carry credentials; it is never printed).
  public let url: String
  /// The URL without credentials, query or fragment; used in messages.
  public let identity: String
  /// The settings in use.
  public let configuration: HTTPRangeSourceConfiguration
  private let client: HTTPClient
  private let state = Mutex(State())

  /// Creates a source for `url`; does no I/O.
  ///
  /// - Parameters:
  ///   - url: an `http://` or `https://` URL.
  ///   - client: the client to send requests with; share one per process for connection
  ///     pooling. The caller owns it (and shuts it down); the default is `HTTPClient.shared`.
  ///   - configuration: headers, limits, timeouts and retries.
  /// - Throws: `CotarError` `.invalidArgument` when `url` is not HTTP(S).
  public init(
    url: String, client: HTTPClient = .shared, configuration: HTTPRangeSourceConfiguration = HTTPRangeSourceConfiguration()
  ) throws {
    guard isRemoteLocation(url) else {
      throw CotarError(.invalidArgument, "not an http:// or https:// URL", source: redactedURL(url))
    }
    self.url = url
    self.identity = redactedURL(url)
    self.client = client
    self.configuration = configuration
  }

  /// Requests and bytes so far.
  public var statistics: HTTPSourceStatistics { state.withLock { $0.statistics } }

  /// The strong ETag pinned by the first response that had one.
  public var pinnedETag: String? { state.withLock { $0.etag } }

  /// The object size, learned from the first response; when unknown, one 1-byte suffix
  /// request finds it (there is no HEAD).
  ///
  /// - Throws: as ``readSuffix(count:)``.
  public func size() async throws -> UInt64 {
    if let size = state.withLock({ $0.size }) { return size }
    return try await readSuffix(count: 1).totalSize
  }

  /// Exactly the bytes of `range`, with one request.
  ///
  /// - Throws: `CotarError` `.truncated` past the end of the object, `.rangeNotHonoured`,
  ///   `.sourceChanged`, `.httpStatus`, or `.io` when the server could not be reached.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    if range.isEmpty { return [] }
    let (known, whole) = state.withLock { ($0.size, $0.wholeBody) }
    if let known, range.upperBound > known { throw pastEnd(range, size: known) }
    if let whole { return try slice(whole, range) }
    let reply = try await exchange(range: "bytes=\(range.lowerBound)-\(range.upperBound - 1)", expecting: range.count)
    switch reply {
    case .whole(let body):
      return try slice(body, range)
    case .unsatisfiable(let size):
      throw pastEnd(range, size: size)
    case .partial(let first, let last, let complete, let body):
      if first == range.lowerBound, last == range.upperBound - 1 { return body }
      if first == range.lowerBound, let complete, last == complete - 1, range.upperBound > complete {
        throw pastEnd(range, size: complete)
      }
      throw mismatch(asked: "\(range.lowerBound)-\(range.upperBound - 1)", first: first, last: last)
    case .oversized(let first, let last, _):
      throw mismatch(asked: "\(range.lowerBound)-\(range.upperBound - 1)", first: first, last: last)
    }
  }

  /// The last `count` bytes and the object size, with one `Range: bytes=-count` request
  /// (two when the server mangles suffix ranges or answers 416).
  ///
  /// - Throws: as ``read(_:)``.
  public func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let count = max(1, count)
    if let whole = state.withLock({ $0.wholeBody }) { return (Array(whole.suffix(count)), UInt64(whole.count)) }
    let reply = try await exchange(range: "bytes=-\(count)", expecting: count)
    switch reply {
    case .whole(let body):
      return (Array(body.suffix(count)), UInt64(body.count))
    case .unsatisfiable(let size):
      if size == 0 { return ([], 0) }
      let start = size - min(UInt64(count), size)
      return (try await read(start..<size), size)
    case .partial(let first, let last, let complete, let body):
      guard let complete else {
        throw CotarError(
          .rangeNotHonoured, "server answered a suffix range without the object size (Content-Range bytes \(first)-\(last)/*)",
          source: identity)
      }
      let start = complete - min(UInt64(count), complete)
      if first == start, last == complete - 1 { return (body, complete) }
      // A server that mangles suffix ranges (bytes=-N read as 0-N) still told us the size.
      return (try await read(start..<complete), complete)
    case .oversized(let first, let last, let complete):
      guard let complete else { throw mismatch(asked: "-\(count)", first: first, last: last) }
      let start = complete - min(UInt64(count), complete)
      return (try await read(start..<complete), complete)
    }
  }

  /// The first `count` bytes (fewer if the object is shorter) and the object size, with one request.
  ///
  /// - Throws: as ``read(_:)``.
  public func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    let count = max(1, count)
    if let whole = state.withLock({ $0.wholeBody }) { return (Array(whole.prefix(count)), UInt64(whole.count)) }
    let reply = try await exchange(range: "bytes=0-\(count - 1)", expecting: count)
    switch reply {
    case .whole(let body):
      return (Array(body.prefix(count)), UInt64(body.count))
    case .unsatisfiable(let size):
      if size == 0 { return ([], 0) }
      return (try await read(0..<min(UInt64(count), size)), size)
    case .partial(let first, let last, let complete, let body):
      guard let complete else {
        throw CotarError(
          .rangeNotHonoured, "server answered a range without the object size (Content-Range bytes \(first)-\(last)/*)",
          source: identity)
      }
      guard first == 0, last == min(UInt64(count), complete) - 1 else {
        throw mismatch(asked: "0-\(count - 1)", first: first, last: last)
      }
      return (body, complete)
    case .oversized(let first, let last, _):
      throw mismatch(asked: "0-\(count - 1)", first: first, last: last)
    }
  }

  private func slice(_ body: [UInt8], _ range: Range<UInt64>) throws -> [UInt8] {
    guard range.upperBound <= UInt64(body.count) else { throw pastEnd(range, size: UInt64(body.count)) }
    return Array(body[Int(range.lowerBound)..<Int(range.upperBound)])
  }

  private func pastEnd(_ range: Range<UInt64>, size: UInt64) -> CotarError {
    CotarError(
      .truncated, "object is \(size) bytes but bytes up to \(range.upperBound) were requested",
      offset: range.lowerBound, source: identity)
  }

  private func mismatch(asked: String, first: UInt64, last: UInt64) -> CotarError {
    CotarError(
      .rangeNotHonoured,
      "server answered 206 with Content-Range bytes \(first)-\(last) for requested bytes \(asked); it does not honour range requests correctly",
      source: identity)
  }

  // MARK: - One request, with retries

  /// What a checked response carried.
  enum Reply {
    /// 206 with a parsed `Content-Range` and exactly that many body bytes.
    case partial(first: UInt64, last: UInt64, complete: UInt64?, body: [UInt8])
    /// 200 with the whole (small) object.
    case whole([UInt8])
    /// 416 with the object size.
    case unsatisfiable(UInt64)
    /// 206 for more bytes than asked (body not read): a mangled range.
    case oversized(first: UInt64, last: UInt64, complete: UInt64?)
  }

  /// Sends `GET` with `Range: range`, retrying transient failures.
  func exchange(range: String, expecting count: Int) async throws -> Reply {
    let start = ContinuousClock.now
    var attempt = 0
    while true {
      attempt += 1
      do {
        return try await attemptExchange(range: range, expecting: count, isRetry: attempt > 1)
      } catch let failure as Transient {
        let elapsed = ContinuousClock.now - start
        let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: failure.retryAfter)
        guard attempt < configuration.retry.maximumAttempts, elapsed + delay <= configuration.retry.maximumTotal else {
          throw failure.error
        }
        try await Task.sleep(for: delay)
      }
    }
  }

  /// A failure worth trying again, and the error to report if no try is left.
  struct Transient: Error {
    var error: CotarError
    var retryAfter: Duration?
  }

  private func attemptExchange(range: String, expecting count: Int, isRetry: Bool) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = .GET
    for (name, value) in configuration.headers { request.headers.replaceOrAdd(name: name, value: value) }
    request.headers.replaceOrAdd(name: "Range", value: range)
    request.headers.replaceOrAdd(name: "Accept-Encoding", value: "identity")
    let pinned = state.withLock {
      $0.statistics.requests += 1
      if isRetry { $0.statistics.retries += 1 }
      return $0.etag
    }
    if let pinned { request.headers.replaceOrAdd(name: "If-Match", value: pinned) }
    let timeout = TimeAmount.nanoseconds(
      configuration.requestTimeout.components.seconds * 1_000_000_000
        + configuration.requestTimeout.components.attoseconds / 1_000_000_000)
    let response: HTTPClientResponse
    do {
      response = try await client.execute(request, timeout: timeout)
    } catch {
      throw classify(error, during: "request")
    }
    let status = response.status.code
    switch status {
    case 200, 206, 416:
      try checkETag(response.headers)
    case 412:
      throw CotarError(
        .sourceChanged,
        "the object changed on the server (If-Match \(pinned ?? "") failed with 412); reopen the archive", source: identity)
    case 429, 500, 502, 503, 504:
      throw Transient(
        error: CotarError(.httpStatus, "HTTP \(status) \(response.status.reasonPhrase)", source: identity),
        retryAfter: retryAfter(response.headers))
    case 401, 403:
      throw CotarError(
        .httpStatus, "HTTP \(status) \(response.status.reasonPhrase): access denied; check credentials (--header)",
        source: identity)
    case 404, 410:
      throw CotarError(.notFound, "HTTP \(status) \(response.status.reasonPhrase): no such object; check the URL", source: identity)
    default:
      throw CotarError(.httpStatus, "unexpected HTTP \(status) \(response.status.reasonPhrase)", source: identity)
    }
    let contentRange = response.headers.first(name: "Content-Range").flatMap(ContentRange.init)
    switch status {
    case 206:
      guard case .bytes(let first, let last, let complete) = contentRange else {
        throw CotarError(
          .rangeNotHonoured, "server answered 206 without a usable Content-Range for \(range)", source: identity)
      }
      let length = Int(last - first + 1)
      if let complete { state.withLock { $0.size = complete } }
      guard length <= max(count, 1) else { return .oversized(first: first, last: last, complete: complete) }
      let body = try await collect(response, upTo: length)
      guard body.count == length else {
        throw Transient(
          error: CotarError(.truncated, "response ended after \(body.count) of \(length) bytes", offset: first, source: identity))
      }
      if let complete { state.withLock { $0.size = complete } }
      return .partial(first: first, last: last, complete: complete, body: body)
    case 416:
      guard case .unsatisfied(let complete) = contentRange else {
        throw CotarError(.httpStatus, "HTTP 416 without Content-Range bytes */SIZE for \(range)", source: identity)
      }
      state.withLock { $0.size = complete }
      return .unsatisfiable(complete)
    default:
      let cap = configuration.maximumUnrangedBytes
      if let declared = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), declared > cap {
        throw unranged(declared)
      }
      let body: [UInt8]
      do {
        body = try await collect(response, upTo: cap)
      } catch is NIOTooManyBytesError {
        throw unranged(nil)
      }
      state.withLock {
        $0.size = UInt64(body.count)
        $0.wholeBody = body
      }
      return .whole(body)
    }
  }

  private func unranged(_ declared: Int?) -> CotarError {
    let size = declared.map { " (\($0) bytes)" } ?? ""
    return CotarError(
      .rangeNotHonoured,
      "server does not support range requests: it answered 200 with the whole object\(size), more than the \(configuration.maximumUnrangedBytes)-byte limit for such answers",
      source: identity)
  }

  private func collect(_ response: HTTPClientResponse, upTo limit: Int) async throws -> [UInt8] {
    do {
      var buffer = try await response.body.collect(upTo: max(limit, 0))
      let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
      state.withLock { $0.statistics.bytes += UInt64(bytes.count) }
      return bytes
    } catch let error as NIOTooManyBytesError {
      throw error
    } catch {
      throw classify(error, during: "body")
    }
  }

  /// Pins the first strong ETag; a different strong ETag later means the object changed.
  private func checkETag(_ headers: HTTPHeaders) throws {
    guard let value = headers.first(name: "ETag")?.trimmingSpaces(), !value.isEmpty, !value.hasPrefix("W/") else { return }
    let previous: String? = state.withLock {
      if let pinned = $0.etag { return pinned }
      $0.etag = value
      return nil
    }
    if let previous, previous != value {
      throw CotarError(
        .sourceChanged, "the object changed on the server (ETag \(previous) became \(value)); reopen the archive",
        source: identity)
    }
  }

  private func retryAfter(_ headers: HTTPHeaders) -> Duration? {
    guard let text = headers.first(name: "Retry-After"), let seconds = Int(text.trimmingSpaces()), seconds >= 0 else {
      return nil
    }
    return .seconds(seconds)
  }

  /// Maps a client error to a ``Transient`` (connection trouble, timeouts) or a final error.
  private func classify(_ error: any Error, during phase: String) -> any Error {
    if error is CancellationError { return error }
    if let error = error as? CotarError { return error }
    if let client = error as? HTTPClientError {
      let final: [HTTPClientError] = [.invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown, .cancelled]
      if final.contains(client) {
        return CotarError(.invalidArgument, "cannot send the request: \(client.shortDescription)", source: identity, cause: client)
      }
    }
    return Transient(
      error: CotarError(.io, "HTTP \(phase) failed: \(error)", source: identity, cause: error), retryAfter: nil)
  }
}
