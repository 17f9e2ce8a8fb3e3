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

  /// Adds the CORS response headers of a request whose `Origin` header is `origin` (`nil`:
  /// none); the one place both paths take them from (the general path through
  /// ``apply(to:request:)``, the fast path with `nil`, since a request with `Origin` never
  /// takes it).
  ///
  /// With `*` every response carries `Access-Control-Allow-Origin: *` and the exposed headers,
  /// whatever the request's `Origin`, so the headers do not depend on it and need no `Vary`.
  /// With a list of origins every response carries `Vary: Origin` (a shared cache must not
  /// give the answer to one origin, or to none, to another), and an allowed origin gets
  /// itself back in `Access-Control-Allow-Origin`.
  func apply(to headers: inout HTTPFields, origin: String?) {
    if !origins.contains("*") { headers.append(HTTPField(name: .vary, value: "Origin")) }
    guard let allowed = allowedOrigin(for: origin) else { return }
    headers[.accessControlAllowOrigin] = allowed
    headers[.accessControlExposeHeaders] = Self.exposed
  }

  /// ``apply(to:origin:)`` with the `Origin` header of `request`.
  func apply(to headers: inout HTTPFields, request: Request) {
    apply(to: &headers, origin: request.headers[.origin])
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
