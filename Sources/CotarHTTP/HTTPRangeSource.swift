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
/// mixed. Weak ETags are ignored. Timeouts, connections lost mid-request, 408, 429 and 5xx are
/// retried with backoff (``RetryPolicy``); a refused connection, an unknown host, a TLS failure
/// and other statuses fail at once. Each request (head and body) is bounded by
/// ``HTTPRangeSourceConfiguration/requestTimeout``. Every number in a response is checked, so
/// no answer can trap. Redirects are followed by the client once; later requests go straight
/// to the final URL (and back to the original URL if that fails). The source counts its
/// requests, redirect hops and bytes (``statistics``).
public final class HTTPRangeSource: RangeSource {
  private struct State {
    var size: UInt64?
    var etag: String?
    var wholeBody: [UInt8]?
    var redirect: Redirect?
    var statistics = HTTPSourceStatistics()
  }

  /// Where redirects of an earlier request ended.
  struct Redirect: Sendable {
    /// The final URL.
    var url: String
    /// Whether the client dropped `Authorization` on the way (a cross-origin redirect).
    var dropsAuthorization: Bool
  }

  /// The URL as given (it may carry credentials; it is never printed). User information in
  /// it (`https://user:password@host/…`) is sent as HTTP Basic authentication, unless
  /// ``HTTPRangeSourceConfiguration/headers`` sets `Authorization`; the request goes to the URL
  /// without it.
  public let url: String
  /// The URL without credentials, query or fragment; used in messages.
  public let identity: String
  /// The settings in use.
  public let configuration: HTTPRangeSourceConfiguration
  /// Signs each request (`nil`: requests carry only ``HTTPRangeSourceConfiguration/headers``).
  public let signer: (any HTTPRequestSigner)?
  private let client: HTTPClient
  private let state = Mutex(State())
  /// The URL's user information, sent as Basic authentication rather than in the URL.
  private let userInfo: URLUserInfo

  /// Creates a source for `url`; does no I/O.
  ///
  /// - Parameters:
  ///   - url: an `http://` or `https://` URL.
  ///   - client: the client to send requests with; share one per process for connection
  ///     pooling. The caller owns it (and shuts it down); the default is `HTTPClient.shared`.
  ///   - configuration: headers, limits, timeouts and retries.
  ///   - signer: adds authentication headers to every request (such as SigV4); default none.
  /// - Throws: `CotarError` `.invalidArgument` when `url` is not HTTP(S), or a header of
  ///   `configuration` cannot be sent or is one Cotar (or `signer`) sets itself
  ///   (``HTTPHeaderField/check(_:signed:)``); nothing is then ever sent.
  public init(
    url: String, client: HTTPClient = .shared, configuration: HTTPRangeSourceConfiguration = HTTPRangeSourceConfiguration(),
    signer: (any HTTPRequestSigner)? = nil
  ) throws {
    guard isRemoteLocation(url) else {
      throw CotarError(.invalidArgument, "not an http:// or https:// URL", source: SourceResolver.redacted(url))
    }
    do {
      try HTTPHeaderField.check(configuration.headers, signed: signer != nil)
    } catch {
      var refused = error
      refused.source = SourceResolver.redacted(url)
      throw refused
    }
    self.url = url
    self.identity = SourceResolver.redacted(url)
    self.userInfo = URLUserInfo(url: url)
    self.client = client
    self.configuration = configuration
    self.signer = signer
  }

  /// A new source for the same URL, client and configuration that has learnt nothing yet (no
  /// pinned ETag, size, whole body or redirect target): what reopening a changed object needs.
  ///
  /// - Throws: as ``init(url:client:configuration:)``.
  public func fresh() throws -> HTTPRangeSource {
    try HTTPRangeSource(url: url, client: client, configuration: configuration, signer: signer)
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

  /// Sends `GET` with `Range: range`, retrying transient failures (5xx, 408, 429, timeouts,
  /// connections lost mid-request) and nothing else. A remembered redirect target that fails
  /// is forgotten and the original URL is asked again at once.
  func exchange(range: String, expecting count: Int) async throws -> Reply {
    let start = ContinuousClock.now
    var attempt = 0
    while true {
      attempt += 1
      let target = state.withLock { $0.redirect }
      let isRetry = attempt > 1
      do {
        return try await withDeadline(configuration.requestTimeout) {
          try await self.attemptExchange(range: range, expecting: count, isRetry: isRetry, target: target)
        }
      } catch let failure as Transient {
        if target != nil { forgetRedirect() }
        let elapsed = ContinuousClock.now - start
        let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: failure.retryAfter)
        guard attempt < configuration.retry.maximumAttempts, elapsed + delay <= configuration.retry.maximumTotal else {
          var error = failure.error
          if attempt > 1 { error.message += " after \(attempt) tries" }
          throw error
        }
        try await Task.sleep(for: delay)
      } catch is DeadlineExceeded {
        if target != nil { forgetRedirect() }
        let timeout = HTTPTransportFailure(.timeout, "timed out")
        let error = CotarError(
          .io, "no complete response within \(configuration.requestTimeout) (--timeout)", source: identity, cause: timeout)
        let delay = configuration.retry.delay(afterAttempt: attempt, retryAfter: nil)
        guard attempt < configuration.retry.maximumAttempts, ContinuousClock.now - start + delay <= configuration.retry.maximumTotal
        else {
          var final = error
          if attempt > 1 { final.message += " after \(attempt) tries" }
          throw final
        }
        try await Task.sleep(for: delay)
      } catch let error as CotarError where target != nil && [.httpStatus, .notFound, .io].contains(error.code) {
        forgetRedirect()  // the redirect target went stale (expired signature, moved): back to the original URL
      }
    }
  }

  private func forgetRedirect() { state.withLock { $0.redirect = nil } }

  /// A failure worth trying again, and the error to report if no try is left.
  struct Transient: Error {
    var error: CotarError
    var retryAfter: Duration?
  }

  private func attemptExchange(range: String, expecting count: Int, isRetry: Bool, target: Redirect?) async throws -> Reply {
    var request = HTTPClientRequest(url: target?.url ?? userInfo.strippedURL)
    request.method = .GET
    for (name, value) in configuration.headers { request.headers.replaceOrAdd(name: name, value: value) }
    if let basic = userInfo.authorization, !request.headers.contains(name: "Authorization") {
      request.headers.add(name: "Authorization", value: basic)
    }
    if target?.dropsAuthorization == true {
      request.headers.remove(name: "Authorization")
      request.headers.remove(name: "Proxy-Authorization")
    }
    request.headers.replaceOrAdd(name: "Range", value: range)
    request.headers.replaceOrAdd(name: "Accept-Encoding", value: "identity")
    let pinned = state.withLock { $0.etag }
    if let pinned { request.headers.replaceOrAdd(name: "If-Match", value: pinned) }
    if let signer, target == nil { try signer.sign(method: "GET", url: request.url, headers: &request.headers) }
    // Headers that cannot go on the wire (a signer's) fail here, final and uncounted: no
    // request is made.
    if let bad = request.headers.first(where: { !HTTPHeaderField.isValidName($0.name) || !HTTPHeaderField.isValidValue($0.value) }) {
      let failure = HTTPTransportFailure(.invalidRequest, "request refused before sending: the header '\(bad.name)' cannot be sent")
      throw CotarError(.invalidArgument, "cannot send the request", source: identity, cause: failure)
    }
    state.withLock {
      $0.statistics.requests += 1
      if isRetry { $0.statistics.retries += 1 }
    }
    let response: HTTPClientResponse
    do {
      response = try await client.execute(request, timeout: TimeAmount(configuration.requestTimeout))
    } catch {
      throw classify(error, during: "request")
    }
    noteRedirects(response, sent: request)
    let status = Int(response.status.code)
    var failure = HTTPStatusFailure(status: status, reason: response.status.reasonPhrase)
    if status >= 400, status != 416 { failure.serviceCode = await serviceErrorCode(response) }
    switch status {
    case 200, 206, 416:
      try checkETag(response.headers)
    case 412:
      throw CotarError(
        .sourceChanged,
        "the object changed on the server (If-Match \(pinned ?? "") failed with 412); reopen the archive", source: identity,
        cause: failure)
    case _ where failure.isTransient:
      throw Transient(
        error: CotarError(.httpStatus, "the server failed", source: identity, cause: failure),
        retryAfter: retryAfter(response.headers))
    case 401, 403:
      throw CotarError(.httpStatus, "access denied; check credentials (--header)", source: identity, cause: failure)
    case 404, 410:
      throw CotarError(.notFound, "no such object; check the URL", source: identity, cause: failure)
    case 300...399:
      throw CotarError(.httpStatus, "unexpected redirect (too many redirects, or redirects not followed)", source: identity, cause: failure)
    default:
      throw CotarError(.httpStatus, "unexpected answer", source: identity, cause: failure)
    }
    let contentRangeText = response.headers.first(name: "Content-Range")
    let contentRange = contentRangeText.flatMap(ContentRange.init)
    switch status {
    case 206:
      guard case .bytes(let first, let last, let complete) = contentRange, let span = contentRange?.length else {
        let shown = contentRangeText.map { "an unusable Content-Range '\($0.prefix(100))'" } ?? "no Content-Range"
        throw CotarError(.rangeNotHonoured, "server answered 206 with \(shown) for \(range)", source: identity)
      }
      guard span <= UInt64(max(count, 1)) else {
        if let complete { state.withLock { $0.size = complete } }
        return .oversized(first: first, last: last, complete: complete)
      }
      let length = Int(span)
      if let declared = response.headers.first(name: "Content-Length").flatMap({ UInt64($0.trimmingSpaces()) }),
        declared != span
      {
        throw CotarError(
          .rangeNotHonoured,
          "server answered 206 with Content-Length \(declared) for Content-Range bytes \(first)-\(last) (\(span) bytes)",
          source: identity)
      }
      let body: [UInt8]
      do {
        body = try await collect(response, upTo: length, expected: length)
      } catch is NIOTooManyBytesError {
        throw CotarError(
          .rangeNotHonoured, "server sent more than the \(span) bytes its Content-Range announced", offset: first,
          source: identity)
      }
      guard body.count == length else {
        throw Transient(
          error: CotarError(
            .truncated, "response ended after \(body.count) of \(length) bytes", offset: first, source: identity,
            cause: HTTPTransportFailure(.connectionLost, "connection closed early")),
          retryAfter: nil)
      }
      if let complete { state.withLock { $0.size = complete } }
      return .partial(first: first, last: last, complete: complete, body: body)
    case 416:
      guard case .unsatisfied(let complete) = contentRange else {
        throw CotarError(.httpStatus, "answered 416 without Content-Range bytes */SIZE for \(range)", source: identity, cause: failure)
      }
      state.withLock { $0.size = complete }
      return .unsatisfiable(complete)
    default:
      let cap = configuration.maximumUnrangedBytes
      if let text = response.headers.first(name: "Content-Length") {
        guard let declared = UInt64(text.trimmingSpaces()) else {
          throw CotarError(.rangeNotHonoured, "server answered 200 with an unusable Content-Length '\(text.prefix(40))'", source: identity)
        }
        if declared > UInt64(cap) { throw unranged(declared) }
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

  /// Counts the redirect hops of `response` and remembers where they ended, so later
  /// requests go straight there.
  private func noteRedirects(_ response: HTTPClientResponse, sent request: HTTPClientRequest) {
    let hops = max(0, response.history.count - 1)
    guard hops > 0, let last = response.history.last?.request else { return }
    let dropsAuthorization = request.headers.contains(name: "Authorization") && !last.headers.contains(name: "Authorization")
    state.withLock {
      $0.statistics.requests += hops
      $0.statistics.redirects += hops
      $0.redirect = Redirect(url: last.url, dropsAuthorization: dropsAuthorization)
    }
  }

  /// The `<Code>` of an XML error body (S3 and compatible stores), read from at most 16 KiB;
  /// nothing else of the body is kept (it may echo the request).
  private func serviceErrorCode(_ response: HTTPClientResponse) async -> String? {
    guard var buffer = try? await response.body.collect(upTo: 16 << 10),
      let text = buffer.readString(length: buffer.readableBytes),
      let open = text.firstRange(of: "<Code>"),
      let close = text[open.upperBound...].firstRange(of: "</Code>")
    else { return nil }
    let code = text[open.upperBound..<close.lowerBound]
    guard !code.isEmpty, code.count <= 64, code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ".") }) else {
      return nil
    }
    return String(code)
  }

  private func unranged(_ declared: UInt64?) -> CotarError {
    let size = declared.map { " (\($0) bytes)" } ?? ""
    return CotarError(
      .rangeNotHonoured,
      "server does not support range requests: it answered 200 with the whole object\(size), more than the \(configuration.maximumUnrangedBytes)-byte limit for such answers (raise it with --max-whole-object)",
      source: identity)
  }

  /// The body of `response`, at most `limit` bytes, appended chunk by chunk into one array
  /// reserved for `expected` bytes (a 206's announced length): the bytes are copied once from
  /// the network buffers, never gathered in a second buffer first, so an 8 MiB part is held
  /// once, not twice.
  ///
  /// - Throws: `NIOTooManyBytesError` past `limit`; transport errors classified.
  private func collect(_ response: HTTPClientResponse, upTo limit: Int, expected: Int = 0) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    do {
      if expected > 0, expected <= Self.gatheredBodyLimit {
        var buffer = try await response.body.collect(upTo: max(limit, 0))
        bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
      } else {
        bytes.reserveCapacity(min(max(expected, 0), max(limit, 0)))
        for try await chunk in response.body {
          guard chunk.readableBytes <= limit - bytes.count else { throw NIOTooManyBytesError(maxBytes: limit) }
          chunk.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
        }
      }
    } catch let error as NIOTooManyBytesError {
      throw error
    } catch {
      throw classify(error, during: "body")
    }
    state.withLock { $0.statistics.bytes += UInt64(bytes.count) }
    return bytes
  }

  /// A range body announced at up to this size is gathered by the client (`collect(upTo:)`)
  /// and copied once: at 16 concurrent small reads, iterating the body chunk by chunk cost
  /// 10 % of the reads per second (Benchmarks/README.md). Larger bodies, and bodies of
  /// unknown size, are appended chunk by chunk into one array, so a large part is never held
  /// twice.
  static let gatheredBodyLimit = 256 << 10

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
    return .seconds(min(seconds, 3600))
  }

  /// Maps a client error to a ``Transient`` (timeouts, connections lost) or a final error
  /// (refused, unknown host, TLS), as one clean line.
  private func classify(_ error: any Error, during phase: String) -> any Error {
    if error is CancellationError || error is Transient || error is CotarError { return error }
    if let client = error as? HTTPClientError, client == .cancelled { return CancellationError() }
    let failure = HTTPTransportFailure.classify(error)
    let message: String
    switch failure.kind {
    case .connectionRefused, .unknownHost, .unreachable, .connectTimeout: message = "cannot connect"
    case .tls: message = "cannot establish a secure connection"
    case .timeout: message = "no response in time"
    case .connectionLost: message = phase == "body" ? "response incomplete" : "request failed"
    case .invalidURL, .invalidRequest: message = "cannot send the request"
    case .redirect: message = "cannot follow the redirects"
    case .other: message = "\(phase) failed"
    }
    let wrapped = CotarError([.invalidURL, .invalidRequest].contains(failure.kind) ? .invalidArgument : .io, message, source: identity, cause: failure)
    return failure.isTransient ? Transient(error: wrapped, retryAfter: nil) : wrapped
  }
}
