/// Boolean query parameters (`?recursive=yes`): the usual spellings, case-insensitive, and a
/// clear refusal of anything else rather than a silent `false`.
package enum QueryFlag {
  /// The spellings that mean `true`; a bare parameter (`?recursive`, or `recursive=`) is one.
  static let trueSpellings: Set<String> = ["", "true", "1", "yes", "on"]
  /// The spellings that mean `false`.
  static let falseSpellings: Set<String> = ["false", "0", "no", "off"]

  /// The value of the boolean parameter `name` given as `value` (percent-decoded bytes).
  ///
  /// `true`/`1`/`yes`/`on` and an empty value are true, `false`/`0`/`no`/`off` false, in any
  /// letter case.
  /// - Returns: `.failure` with a message naming the parameter, the value and the spellings
  ///   accepted, for anything else (a `400` for the caller).
  package static func parse(_ name: String, _ value: [UInt8]) -> Result<Bool, Refusal> {
    let text = String(decoding: value, as: UTF8.self)
    if trueSpellings.contains(text.lowercased()) { return .success(true) }
    if falseSpellings.contains(text.lowercased()) { return .success(false) }
    let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
    return .failure(
      Refusal(message: "\(name) must be true or false (also 1/0, yes/no, on/off), not '\(shown)'"))
  }

  /// Why a boolean parameter was refused.
  package struct Refusal: Error, Equatable {
    /// The message for the `400` answer.
    package let message: String
  }
}
