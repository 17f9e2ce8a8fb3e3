import CotarCore
import CotarHTTP
import Crypto
import NIOHTTP1

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// AWS Signature Version 4 for S3 requests, with swift-crypto's HMAC-SHA256.
///
/// Signs `host`, `range`, `content-md5`, `content-type` and every `x-amz-*` header. The
/// secret key is used only to derive the signing key and never appears in any output.
public struct S3Signer: HTTPRequestSigner, Sendable {
  /// The SHA-256 of an empty payload, sent as `x-amz-content-sha256` for bodiless requests.
  public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

  /// The credentials requests are signed with.
  public let credentials: S3Credentials
  /// The region in the credential scope, such as `us-east-1`.
  public let region: String
  /// The service in the credential scope (`s3`).
  public let service: String
  /// The clock; tests pass a fixed date.
  let now: @Sendable () -> AmzDate

  /// Creates a signer.
  public init(credentials: S3Credentials, region: String, service: String = "s3") {
    self.init(credentials: credentials, region: region, service: service, now: { AmzDate.now() })
  }

  init(credentials: S3Credentials, region: String, service: String = "s3", now: @escaping @Sendable () -> AmzDate) {
    self.credentials = credentials
    self.region = region
    self.service = service
    self.now = now
  }

  /// Signs a bodiless request (GET, HEAD, DELETE): see ``sign(method:url:headers:payloadHash:)``.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a URL that cannot be parsed.
  public func sign(method: String, url: String, headers: inout HTTPHeaders) throws {
    try sign(method: method, url: url, headers: &headers, payloadHash: Self.emptyPayloadHash)
  }

  /// Adds `Host`, `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with a
  /// session token) and `Authorization` to a request.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for a URL that cannot be parsed.
  public func sign(method: String, url: String, headers: inout HTTPHeaders, payloadHash: String) throws {
    guard let parts = URLParts(url) else {
      throw CotarError(.invalidArgument, "cannot sign a request to an unparsable URL", source: "s3")
    }
    let date = now()
    headers.replaceOrAdd(name: "Host", value: parts.hostHeader)
    headers.replaceOrAdd(name: "x-amz-date", value: date.timestamp)
    headers.replaceOrAdd(name: "x-amz-content-sha256", value: payloadHash)
    if let token = credentials.sessionToken { headers.replaceOrAdd(name: "x-amz-security-token", value: token) }
    var signed: [(String, String)] = []
    for (name, value) in headers {
      let lower = name.lowercased()
      if lower == "host" || lower == "range" || lower == "content-md5" || lower == "content-type" || lower.hasPrefix("x-amz-") {
        signed.append((lower, value))
      }
    }
    let authorization = authorizationHeader(
      method: method, path: parts.path, query: parts.query, headers: signed, payloadHash: payloadHash, date: date)
    headers.replaceOrAdd(name: "Authorization", value: authorization)
  }

  /// The `Authorization` header value for a request.
  func authorizationHeader(
    method: String, path: String, query: String, headers: [(String, String)], payloadHash: String, date: AmzDate
  ) -> String {
    let canonical = Self.canonicalRequest(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash)
    let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical.text, date: date), date: date)
    return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(date)), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
  }

  /// The credential scope: `20130524/us-east-1/s3/aws4_request`.
  func scope(_ date: AmzDate) -> String { "\(date.day)/\(region)/\(service)/aws4_request" }

  /// The canonical request and its signed-header list (step 1 of SigV4).
  ///
  /// `path` is the URL's path as sent (already URI-encoded); `query` is the raw query string.
  static func canonicalRequest(
    method: String, path: String, query: String, headers: [(String, String)], payloadHash: String
  ) -> (text: String, signedHeaders: String) {
    var merged: [String: [String]] = [:]
    for (name, value) in headers { merged[name.lowercased(), default: []].append(collapseSpaces(value)) }
    let names = merged.keys.sorted()
    let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
    let signedHeaders = names.joined(separator: ";")
    let text = [
      method, path.isEmpty ? "/" : path, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash,
    ].joined(separator: "\n")
    return (text, signedHeaders)
  }

  /// The string to sign (step 2).
  func stringToSign(canonicalRequest: String, date: AmzDate) -> String {
    ["AWS4-HMAC-SHA256", date.timestamp, scope(date), Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
      .joined(separator: "\n")
  }

  /// The hex signature (steps 3 and 4): HMAC chain over date, region, service, `aws4_request`.
  func signature(stringToSign: String, date: AmzDate) -> String {
    let secret = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
    let dateKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(date.day.utf8), using: secret))
    let regionKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(region.utf8), using: dateKey))
    let serviceKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(service.utf8), using: regionKey))
    let signingKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("aws4_request".utf8), using: serviceKey))
    return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey))
  }

  /// The hex SHA-256 of `bytes`, for `x-amz-content-sha256`.
  public static func payloadHash(_ bytes: some Collection<UInt8>) -> String { hex(SHA256.hash(data: Array(bytes))) }

  static func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Sorted `name=value` pairs, each URI-encoded exactly once.
  static func canonicalQuery(_ query: String) -> String {
    guard !query.isEmpty else { return "" }
    let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let name = S3Encoding.encode(S3Encoding.decode(String(parts[0])), keepSlash: false)
      let value = parts.count > 1 ? S3Encoding.encode(S3Encoding.decode(String(parts[1])), keepSlash: false) : ""
      return (name, value)
    }
    return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
  }

  private static func collapseSpaces(_ value: String) -> String {
    var out = ""
    var lastSpace = false
    for character in value.trimmingCharacters() {
      if character == " " {
        if !lastSpace { out.append(" ") }
        lastSpace = true
      } else {
        out.append(character)
        lastSpace = false
      }
    }
    return out
  }
}

/// A SigV4 time stamp: `20130524T000000Z` and its day `20130524`.
public struct AmzDate: Sendable, Hashable {
  /// `YYYYMMDDTHHMMSSZ`.
  public var timestamp: String
  /// `YYYYMMDD`.
  public var day: String { String(timestamp.prefix(8)) }

  /// A date from its SigV4 time stamp.
  public init(timestamp: String) { self.timestamp = timestamp }

  /// The current UTC time.
  public static func now() -> AmzDate {
    var seconds = time(nil)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return AmzDate(
      timestamp: pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T" + pad(parts.tm_hour, 2)
        + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z")
  }
}

/// The pieces of a URL a signature needs.
struct URLParts {
  var scheme: String
  var host: String
  var port: Int?
  var path: String
  var query: String

  init?(_ url: String) {
    guard let separator = url.firstRange(of: "://") else { return nil }
    scheme = url[..<separator.lowerBound].lowercased()
    let rest = url[separator.upperBound...]
    let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    var remainder = rest[authorityEnd...]
    if let hash = remainder.firstIndex(of: "#") { remainder = remainder[..<hash] }
    if let question = remainder.firstIndex(of: "?") {
      path = String(remainder[..<question])
      query = String(remainder[remainder.index(after: question)...])
    } else {
      path = String(remainder)
      query = ""
    }
    if path.isEmpty { path = "/" }
    if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
      guard let number = Int(authority[authority.index(after: colon)...]) else { return nil }
      host = String(authority[..<colon])
      port = number
    } else {
      host = String(authority)
      port = nil
    }
    guard !host.isEmpty else { return nil }
  }

  /// The `Host` header: the host, with the port when it is not the scheme's default.
  var hostHeader: String {
    guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return host }
    return "\(host):\(port)"
  }
}

/// URI encoding as SigV4 and S3 keys need it.
enum S3Encoding {
  /// Percent-encodes every byte except `A-Z a-z 0-9 - . _ ~` (and `/` when `keepSlash`).
  static func encode(_ text: String, keepSlash: Bool) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        out.append(byte)
      case UInt8(ascii: "/") where keepSlash:
        out.append(byte)
      default:
        out.append(UInt8(ascii: "%"))
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Decodes `%XX` escapes (invalid escapes are kept as they are).
  static func decode(_ text: String) -> String {
    String(decoding: PercentDecoding.decode(text), as: UTF8.self)
  }

}

extension String {
  /// Without leading and trailing spaces and tabs.
  func trimmingCharacters() -> String {
    var text = Substring(self)
    while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
    while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
    return String(text)
  }
}
