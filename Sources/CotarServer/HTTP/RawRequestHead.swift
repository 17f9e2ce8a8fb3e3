/// A request head read straight from a connection's bytes for the fast path
/// (``RawFastPathHandler``), without NIO's HTTP/1 decoder.
///
/// The scan accepts only a strict subset of HTTP/1.1 (RFC 9112): a `GET` or `HEAD` request
/// line with an origin-form target of visible ASCII and version `HTTP/1.1` or `HTTP/1.0`
/// (answered, then closed: see ``closes``), header lines of
/// the form `token ":" OWS value CRLF`, CRLF line ends, and no body framing. Anything else,
/// however legal, is left to the real decoder: the fast path must never accept a request the
/// decoder would read differently. Two heads are refused outright: a request target longer
/// than ``maximumTargetLength`` (`414`, ``Scan/targetTooLong``), and an HTTP/1.1 head without
/// exactly one `Host` field, which goes to the general path to be answered `400`.
struct RawRequestHead: Equatable {
  /// `HEAD` (else `GET`).
  var isHead: Bool
  /// The request target, as sent (origin-form, not percent-decoded).
  var target: Substring
  /// The head's length in bytes, through its terminating blank line.
  var length: Int
  /// An HTTP/1.0 request: the connection closes after its answer (Cotar does not keep
  /// HTTP/1.0 connections alive; the answer says `Connection: close`).
  var closes = false

  /// The largest head the fast path reads; a longer one goes to the decoder and its limits.
  static let maximumLength = 8 << 10
  /// The most header lines the fast path reads.
  static let maximumFields = 64
  /// The longest request target served; a longer one is answered `414 URI Too Long` (on the
  /// general path too: ``RequestHeadCheckHandler``). An entry path of 4 KiB, every byte
  /// percent-encoded, fits.
  static let maximumTargetLength = 16 << 10

  /// The message of the `414` answer.
  static let targetTooLongMessage = "the request target is longer than \(maximumTargetLength) bytes"
  /// The message of the `400` answer to an HTTP/1.1 request without `Host`.
  static let missingHostMessage = "an HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)"
  /// The message of the `400` answer to a request with several `Host` fields.
  static let manyHostsMessage = "a request has one Host header, not several (RFC 9112 section 3.2)"

  /// A JSON error body, `{"error":{"message":"…"}}` (the messages above need no escaping).
  static func errorBody(_ message: String) -> String { #"{"error":{"message":""# + message + #""}}"# }

  /// The head of the `414` answer the fast path writes before closing the connection (all
  /// of it, to a `HEAD`).
  static let targetTooLongHead: String =
    "HTTP/1.1 414 URI Too Long\r\nContent-Type: application/json\r\n"
    + "Content-Length: \(errorBody(targetTooLongMessage).utf8.count)\r\nConnection: close\r\n\r\n"
  /// The whole `414` answer to a `GET`.
  static let targetTooLongAnswer = targetTooLongHead + errorBody(targetTooLongMessage)

  /// What a scan of the bytes at the start of a connection's input found.
  enum Scan: Equatable {
    /// No complete head yet, and nothing seen that the fast path refuses.
    case incomplete
    /// A complete head the fast path may answer.
    case fast(RawRequestHead)
    /// A complete bodiless `GET` or `HEAD` head of `length` bytes with a header only the
    /// general path handles (ranges, conditionals, CORS, `Connection` other than keep-alive,
    /// `Expect`, `Upgrade`), or an HTTP/1.1 head without exactly one `Host` (which the
    /// general path refuses): hand exactly these bytes to the decoder. `closes`: an HTTP/1.0
    /// head, the last one answered on the connection (see ``RawRequestHead/closes``).
    case general(length: Int, closes: Bool)
    /// Anything else (another method or version, body framing, unusual syntax, a head over
    /// the limits): the decoder must read the connection from here on.
    case undecodable
    /// A `GET` or `HEAD` whose request target is longer than ``maximumTargetLength``: answer
    /// `414` and close (the rest of the head is not read).
    case targetTooLong
  }

  /// Header names (lowercase) whose handling lives only in the general path.
  private static let generalFields: [[UInt8]] = [
    "range", "if-range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "origin", "expect",
    "upgrade",
  ].map { Array($0.utf8) }
  /// Header names (lowercase) that frame a body: the decoder must take over.
  private static let bodyFields: [[UInt8]] = ["content-length", "transfer-encoding"].map { Array($0.utf8) }

  private static let version11 = Array("HTTP/1.1\r\n".utf8)
  private static let version10 = Array("HTTP/1.0\r\n".utf8)
  private static let connectionField = Array("connection".utf8)
  private static let hostField = Array("host".utf8)
  private static let keepAlive = Array("keep-alive".utf8)

  /// Scans the head at the start of `bytes`.
  static func scan(_ bytes: UnsafeRawBufferPointer) -> Scan {
    var cursor = Cursor(bytes: bytes)
    // Request line.
    let isHead: Bool
    if cursor.consume("GET ") {
      isHead = false
    } else if cursor.consume("HEAD ") {
      isHead = true
    } else {
      return cursor.isPrefixOfMethod ? .incomplete : .undecodable
    }
    let targetStart = cursor.position
    while let byte = cursor.peek(), byte != UInt8(ascii: " ") {
      guard byte > 0x20 && byte < 0x7F else { return .undecodable }
      guard cursor.position - targetStart < maximumTargetLength else {
        return bytes[targetStart] == UInt8(ascii: "/") ? .targetTooLong : .undecodable
      }
      cursor.advance()
    }
    // A target may grow up to its own limit before the head is given up as incomplete.
    guard let targetEnd = cursor.peek().map({ _ in cursor.position }) else { return .incomplete }
    guard targetEnd > targetStart, bytes[targetStart] == UInt8(ascii: "/") else { return .undecodable }
    cursor.advance()
    let versionStart = cursor.position
    var closes = false
    switch cursor.expect(version11) {
    case .matched: break
    case .shortInput: return cursor.incompleteOrTooLong
    case .mismatch:
      cursor.position = versionStart
      switch cursor.expect(version10) {
      case .matched: closes = true
      case .shortInput: return cursor.incompleteOrTooLong
      case .mismatch: return .undecodable
      }
    }
    // Header lines, then the blank line.
    var general = false
    var fields = 0
    var hosts = 0
    while true {
      guard let first = cursor.peek() else { return cursor.incompleteOrTooLong }
      if first == UInt8(ascii: "\r") {
        cursor.advance()
        guard let second = cursor.peek() else { return cursor.incompleteOrTooLong }
        guard second == UInt8(ascii: "\n") else { return .undecodable }
        cursor.advance()
        break
      }
      fields += 1
      guard fields <= maximumFields else { return .undecodable }
      let nameStart = cursor.position
      while let byte = cursor.peek(), byte != UInt8(ascii: ":") {
        guard isTokenByte(byte) else { return .undecodable }
        cursor.advance()
      }
      guard cursor.peek() != nil else { return cursor.incompleteOrTooLong }
      let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<cursor.position])
      guard !name.isEmpty else { return .undecodable }
      cursor.advance()
      let valueStart = cursor.position
      while let byte = cursor.peek(), byte != UInt8(ascii: "\r") {
        guard byte == 0x09 || byte >= 0x20, byte != 0x7F else { return .undecodable }
        cursor.advance()
      }
      let valueEnd = cursor.position
      cursor.advance()
      guard let lineFeed = cursor.peek() else { return cursor.incompleteOrTooLong }
      guard lineFeed == UInt8(ascii: "\n") else { return .undecodable }
      cursor.advance()
      if bodyFields.contains(where: { equalsLowercased(name, $0) }) { return .undecodable }
      if equalsLowercased(name, hostField) { hosts += 1 }
      if generalFields.contains(where: { equalsLowercased(name, $0) }) {
        general = true
      } else if equalsLowercased(name, connectionField) {
        let value = trimmed(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
        if !equalsLowercased(value, keepAlive) { general = true }
      }
    }
    let length = cursor.position
    guard length <= maximumLength else { return .undecodable }
    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is answered 400, there.
    if !closes, hosts != 1 { general = true }
    if general { return .general(length: length, closes: closes) }
    let target = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self)
    return .fast(RawRequestHead(isHead: isHead, target: target[...], length: length, closes: closes))
  }

  /// `tchar` of RFC 9110 §5.6.2.
  private static func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
      UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
      UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
      true
    default: false
    }
  }

  /// Whether `bytes`, ASCII-lowercased, equal `lowercase`.
  private static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ lowercase: [UInt8]) -> Bool {
    guard bytes.count == lowercase.count else { return false }
    for (byte, expected) in zip(bytes, lowercase) {
      let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
      if lowered != expected { return false }
    }
    return true
  }

  /// `bytes` without leading and trailing spaces and tabs.
  private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
    while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
    return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
  }

  /// A read position in the scanned bytes.
  private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    enum Match { case matched, shortInput, mismatch }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }
    mutating func advance() { position += 1 }

    /// Consumes `literal` when the input starts with it here.
    mutating func consume(_ literal: StaticString) -> Bool {
      let count = literal.utf8CodeUnitCount
      guard bytes.count - position >= count else { return false }
      let matches = literal.withUTF8Buffer { expected in
        zip(expected, bytes[position..<(position + count)]).allSatisfy { $0 == $1 }
      }
      if matches { position += count }
      return matches
    }

    /// Consumes `literal`, or tells whether the input ended first or differs.
    mutating func expect(_ literal: [UInt8]) -> Match {
      for expected in literal {
        guard let byte = peek() else { return .shortInput }
        guard byte == expected else { return .mismatch }
        advance()
      }
      return .matched
    }

    /// Whether all the input so far could still begin `GET ` or `HEAD `.
    var isPrefixOfMethod: Bool {
      let input = Array(bytes.prefix(5))
      return input.count < 5 && (Array("GET ".utf8).starts(with: input) || Array("HEAD ".utf8).starts(with: input))
    }

    /// `.incomplete` while the head may still fit the limit, else `.undecodable`.
    var incompleteOrTooLong: Scan { bytes.count < RawRequestHead.maximumLength ? .incomplete : .undecodable }
  }
}
