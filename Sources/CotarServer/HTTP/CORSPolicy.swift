import HTTPTypes
import Hummingbird

/// Cross-origin resource sharing for browser clients (map viewers reading tiles).
struct CORSPolicy: Sendable {
  /// Allowed origins; `*` allows any.
  let origins: [String]

  /// Headers a browser script may read: the ones range readers and caches need.
  static let exposed = "ETag, Content-Range, Content-Length, Accept-Ranges, Content-Encoding, Last-Modified"
  /// Request headers allowed in preflights when the browser does not list its own.
  static let allowedHeaders = "Range, If-None-Match, If-Modified-Since, If-Range, Accept-Encoding"

  /// The `Access-Control-Allow-Origin` value for a request's `Origin`, or `nil` when the
  /// origin is not allowed.
  func allowedOrigin(for origin: String?) -> String? {
    if origins.contains("*") { return "*" }
    guard let origin, origins.contains(origin) else { return nil }
    return origin
  }

  /// Adds the CORS response headers when the request comes from an allowed origin.
  func apply(to headers: inout HTTPFields, request: Request) {
    let origin = request.headers[.origin]
    if !origins.contains("*") { headers.append(HTTPField(name: .vary, value: "Origin")) }
    guard origin != nil, let allowed = allowedOrigin(for: origin) else { return }
    headers[.accessControlAllowOrigin] = allowed
    headers[.accessControlExposeHeaders] = Self.exposed
  }

  /// The answer to a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
  /// or `nil` when the request is not a preflight.
  func preflight(_ request: Request) -> Response? {
    guard let origin = request.headers[.origin], request.headers[.accessControlRequestMethod] != nil else { return nil }
    var response = Response(status: .noContent)
    response.headers[.allow] = "GET, HEAD, OPTIONS"
    guard allowedOrigin(for: origin) != nil else { return response }
    response.headers[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
    response.headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? Self.allowedHeaders
    response.headers[.accessControlMaxAge] = "86400"
    return response
  }
}
