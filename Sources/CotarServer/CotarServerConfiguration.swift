/// Settings of ``CotarServer``.
public struct CotarServerConfiguration: Sendable {
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
    accessLog: Bool = true
  ) {
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
