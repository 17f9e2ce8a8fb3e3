import CotarCore

/// The user information of a URL (`http://user:password@host/…`), split off the URL so it is
/// sent as HTTP Basic authentication (RFC 7617), as curl and browsers do, rather than dropped.
struct URLUserInfo: Sendable {
  /// The URL without its user information (what the request goes to).
  let strippedURL: String
  /// `Basic` and the Base64 of the percent-decoded `user:password`, or `nil` when the URL has
  /// no user information.
  let authorization: String?

  /// Splits `url`. Only the authority is looked at (from `://` to the first `/`, `?` or `#`);
  /// its last `@` ends the user information, as in `SourceResolver.redacted(_:)`.
  init(url: String) {
    guard let schemeEnd = url.firstRange(of: "://") else {
      (strippedURL, authorization) = (url, nil)
      return
    }
    let authorityStart = schemeEnd.upperBound
    let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
    guard let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") else {
      (strippedURL, authorization) = (url, nil)
      return
    }
    let userInfo = url[authorityStart..<at]
    strippedURL = String(url[..<authorityStart]) + String(url[url.index(after: at)...])
    // `user` alone (no colon) is a user with an empty password, as curl sends it.
    let colon = userInfo.firstIndex(of: ":")
    let user = PercentDecoding.decode(userInfo[..<(colon ?? userInfo.endIndex)])
    let password = colon.map { PercentDecoding.decode(userInfo[userInfo.index(after: $0)...]) } ?? []
    authorization = "Basic " + Self.base64(user + [UInt8(ascii: ":")] + password)
  }

  /// Standard Base64 (RFC 4648 §4) with `=` padding.
  static func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var encoded: [UInt8] = []
    encoded.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
      let count = min(3, bytes.count - index)
      var group = UInt32(bytes[index]) << 16
      if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
      if count > 2 { group |= UInt32(bytes[index + 2]) }
      for position in 0..<4 {
        encoded.append(position <= count ? alphabet[Int(group >> (18 - 6 * UInt32(position)) & 0x3F)] : UInt8(ascii: "="))
      }
      index += 3
    }
    return String(decoding: encoded, as: UTF8.self)
  }
}
