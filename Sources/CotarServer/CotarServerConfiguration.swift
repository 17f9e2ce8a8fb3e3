#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Settings of ``CotarServer``.
public struct CotarServerConfiguration: Sendable {
  /// Limits that keep slow, idle and excess clients from holding the server.
  public struct ConnectionLimits: Sendable {
    /// How long a connection may wait for the first byte of its next request (keep-alive
    /// idle), and how long a client may take no bytes of a response before it is closed.
    public var idleTimeout: Duration
    /// How long a client may take to send a whole request head once its first byte arrived
    /// (against slowloris).
    public var requestHeadTimeout: Duration
    /// The most connections open at once; above it a new connection gets `503` and is closed.
    public var maxConnections: Int
    /// After SIGINT/SIGTERM, how long responses in flight may take before their connections
    /// are closed.
    public var shutdownGracePeriod: Duration

    /// Creates limits; the default cap is ``defaultMaxConnections()``.
    public init(
      idleTimeout: Duration = .seconds(60), requestHeadTimeout: Duration = .seconds(10), maxConnections: Int? = nil,
      shutdownGracePeriod: Duration = .seconds(10)
    ) {
      self.idleTimeout = idleTimeout
      self.requestHeadTimeout = requestHeadTimeout
      self.maxConnections = max(1, maxConnections ?? Self.defaultMaxConnections())
      self.shutdownGracePeriod = shutdownGracePeriod
    }

    /// File descriptors kept free under the process limit for archives, the listening
    /// socket, logs and the refusals of excess connections.
    public static let reservedDescriptors = 64

    /// 10 000, or fewer when the process's open-file limit (`RLIMIT_NOFILE`) is lower: the
    /// soft limit minus ``reservedDescriptors``, so the server refuses excess connections
    /// itself before `accept` fails with `EMFILE`.
    public static func defaultMaxConnections() -> Int {
      var limit = rlimit()
      guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 10_000 }
      let soft = Int(clamping: limit.rlim_cur)
      return max(1, min(10_000, soft - reservedDescriptors))
    }
  }

  /// The file served for a directory path (`/v1/file/docs/` serves `docs/index.html`); `nil`
  /// or empty turns this off.
  public var indexFile: String?
  /// Whether entries not named `.gz` that start with the gzip magic are sent with
  /// `Content-Encoding: gzip` (tiles stored gzipped under `.pbf` or `.mvt`).
  public var encodingFromContent: Bool
  /// Whether browsers (requests whose `Accept` prefers `text/html`) get HTML pages for
  /// listings and file previews, and `/` shows the first archive's root.
  public var browse: Bool

  /// Timeouts, the connection cap and the shutdown grace period.
  public var limits: ConnectionLimits

  /// The address to bind (default `127.0.0.1`: loopback only).
  public var host: String
  /// The TCP port (0 picks a free one).
  public var port: Int
  /// The `Cache-Control` value sent with entries and archives; `nil` sends none.
  public var cacheControl: String?
  /// Origins allowed by CORS (`*` for any); empty disables CORS headers.
  public var corsOrigins: [String]
  /// Prefix of URLs in listings, such as `http://localhost:8080`; empty for relative URLs.
  public var baseURL: String
  /// Largest chunk read from an archive and written to a client, in bytes. A response holds
  /// at most about two chunks in memory whatever its size or the client's speed.
  public var chunkSize: Int
  /// Whether `/v1/list` answers (it needs archives opened with a listing).
  public var listingEnabled: Bool
  /// Whether to log one line per request.
  public var accessLog: Bool

  /// Creates a configuration; see the properties for the defaults.
  public init(
    host: String = "127.0.0.1", port: Int = 8080, cacheControl: String? = "public, max-age=3600",
    corsOrigins: [String] = [], baseURL: String = "", chunkSize: Int = 64 << 10, listingEnabled: Bool = true,
    accessLog: Bool = true, limits: ConnectionLimits = ConnectionLimits(), indexFile: String? = "index.html",
    encodingFromContent: Bool = false, browse: Bool = true
  ) {
    self.indexFile = indexFile
    self.encodingFromContent = encodingFromContent
    self.browse = browse
    self.limits = limits
    self.host = host
    self.port = port
    self.cacheControl = cacheControl
    self.corsOrigins = corsOrigins
    self.baseURL = baseURL
    self.chunkSize = max(4 << 10, chunkSize)
    self.listingEnabled = listingEnabled
    self.accessLog = accessLog
  }
}
