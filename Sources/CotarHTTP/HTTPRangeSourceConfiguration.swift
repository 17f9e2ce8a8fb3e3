/// Settings of an ``HTTPRangeSource``.
public struct HTTPRangeSourceConfiguration: Sendable, Hashable {
  /// Extra request headers, such as `Authorization`; their values never appear in errors.
  public var headers: [String: String]
  /// Largest body accepted from a server that ignores `Range` and answers 200 with the whole
  /// object (default 4 MiB). The body is then kept and later reads are served from it. A
  /// larger object fails with `.rangeNotHonoured` ("server does not support range requests").
  public var maximumUnrangedBytes: Int
  /// Time allowed for one request, response head and body together (default 30 s); a server
  /// that trickles its body is cut off. A timed-out request is retried.
  public var requestTimeout: Duration
  /// When and how often failed requests are tried again.
  public var retry: RetryPolicy

  /// Creates a configuration.
  public init(
    headers: [String: String] = [:], maximumUnrangedBytes: Int = 4 << 20, requestTimeout: Duration = .seconds(30),
    retry: RetryPolicy = RetryPolicy()
  ) {
    self.headers = headers
    self.maximumUnrangedBytes = max(0, maximumUnrangedBytes)
    self.requestTimeout = requestTimeout
    self.retry = retry
  }
}

/// Exponential backoff with full jitter for timeouts, lost connections, 408, 429 and 5xx.
public struct RetryPolicy: Sendable, Hashable {
  /// Tries per request, the first included (1 disables retries).
  public var maximumAttempts: Int
  /// Upper bound of the first delay; each later bound doubles.
  public var initialDelay: Duration
  /// Cap on any single delay (also on a server's `Retry-After`).
  public var maximumDelay: Duration
  /// No retry starts after this much time has passed since the first try.
  public var maximumTotal: Duration

  /// Creates a policy (defaults: 4 tries, 100 ms doubling to at most 2 s, within 30 s).
  public init(
    maximumAttempts: Int = 4, initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(2),
    maximumTotal: Duration = .seconds(30)
  ) {
    self.maximumAttempts = max(1, maximumAttempts)
    self.initialDelay = initialDelay
    self.maximumDelay = maximumDelay
    self.maximumTotal = maximumTotal
  }

  /// The delay before try number `attempt + 1` (after `attempt` failures): a random duration
  /// up to `initialDelay × 2^(attempt−1)`, capped, or the server's `Retry-After` if sooner.
  func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
    let bound = min(maximumDelay, initialDelay * (1 << min(20, max(0, attempt - 1))))
    if let retryAfter { return min(retryAfter, maximumDelay) }
    let nanos = max(0, bound.components.seconds * 1_000_000_000 + bound.components.attoseconds / 1_000_000_000)
    return .nanoseconds(Int64.random(in: 0...max(0, nanos)))
  }
}

/// Request and byte totals of an ``HTTPRangeSource``.
public struct HTTPSourceStatistics: Hashable, Sendable {
  /// HTTP requests sent, retries included.
  public var requests = 0
  /// Body bytes received.
  public var bytes: UInt64 = 0
  /// Requests that were tries after a failure.
  public var retries = 0
  /// Redirect hops followed (each also counted in ``requests``).
  public var redirects = 0
}
