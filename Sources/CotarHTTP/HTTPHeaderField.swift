import CotarCore

/// Checks of user-supplied request headers (``HTTPRangeSourceConfiguration/headers``,
/// `--header`), done before any request so that a header the HTTP client would refuse is a
/// usage error rather than a request failure that is retried.
public enum HTTPHeaderField {
  /// Headers Cotar sets itself on range requests (lower case): the range, the ETag pinning
  /// conditions, the content coding, and message framing. A user value for one of these would
  /// be overridden or would break the reads (an `If-Match` of the user's makes every read fail
  /// with 412), so it is refused.
  public static let managedNames: Set<String> = [
    "host", "range", "if-match", "if-none-match", "if-range", "if-modified-since", "if-unmodified-since",
    "accept-encoding", "content-length", "transfer-encoding", "connection", "te", "upgrade", "expect", "trailer",
  ]

  /// Headers a request signer (SigV4 for `s3://`) sets itself (lower case), refused when a
  /// signer is used.
  public static let signedNames: Set<String> = [
    "authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token",
  ]

  /// Whether `name` is a field name: a non-empty RFC 9110 token
  /// (letters, digits and ``!#$%&'*+-.^_`|~``).
  public static func isValidName(_ name: some StringProtocol) -> Bool {
    !name.isEmpty
      && name.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
          true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
      }
  }

  /// Whether `value` is a field value (RFC 9110 §5.5): visible ASCII, space, horizontal tab
  /// and obs-text (bytes 0x80–0xFF); no CR, LF, NUL nor any other control byte.
  public static func isValidValue(_ value: some StringProtocol) -> Bool {
    value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
  }

  /// Why the header `name: value` cannot be sent, or `nil` when it can. The reason names the
  /// header (its name, escaped) and never contains the value, which may be a secret.
  ///
  /// - Parameters:
  ///   - signed: whether requests are signed (``signedNames`` are then refused too).
  public static func problem(name: String, value: String, signed: Bool = false) -> String? {
    let shown = String(reflecting: name)
    guard isValidName(name) else {
      return "header name \(shown) is not a valid HTTP field name (letters, digits and !#$%&'*+-.^_`|~, no spaces)"
    }
    guard isValidValue(value) else {
      return "the value of header \(shown) contains CR, LF, NUL or another control character (only tab is allowed)"
    }
    let lower = name.lowercased()
    if managedNames.contains(lower) {
      return "header \(shown) is set by Cotar itself (range reads, ETag checks, framing) and cannot be given"
    }
    if signed, signedNames.contains(lower) {
      return "header \(shown) is set by the request signature (SigV4) and cannot be given"
    }
    return nil
  }

  /// Checks every header of `headers` with ``problem(name:value:signed:)``.
  ///
  /// - Throws: `CotarError` `.invalidArgument` with the first problem (headers in name order).
  public static func check(_ headers: [String: String], signed: Bool = false) throws(CotarError) {
    for name in headers.keys.sorted() {
      if let problem = problem(name: name, value: headers[name] ?? "", signed: signed) {
        throw CotarError(.invalidArgument, problem)
      }
    }
  }
}
