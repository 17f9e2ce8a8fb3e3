import CotarCore

/// Parses human byte sizes such as `12MiB`, `1GiB`, `100G` or `4096`.
///
/// Binary suffixes (`KiB`, `MiB`, `GiB`, `TiB`, also `Ki`…) are powers of 1024. Plain SI
/// suffixes (`K`, `M`, `G`, `T`, also `KB`, `MB`, `GB`, `TB`) are powers of 1000: a shard
/// size is a maximum, so an ambiguous `100G` errs on the small side (100 × 10^9, not
/// 100 × 2^30). A bare number or a `B` suffix is bytes. Case-insensitive; spaces between
/// the number and the unit are allowed.
package enum ByteSize {
  /// The number of bytes `text` denotes.
  ///
  /// - Throws: `CotarError` `.invalidArgument` for an empty or unknown unit, a malformed
  ///   number, or a value that overflows 64 bits.
  package static func parse(_ text: String) throws(CotarError) -> UInt64 {
    let trimmed = text.filter { $0 != " " }
    let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
    let unit = trimmed.dropFirst(digits.count).lowercased()
    let invalid = CotarError(
      .invalidArgument, "'\(text)' is not a size; use a number with an optional unit such as 12MiB, 1GiB or 100G")
    guard !digits.isEmpty, let number = UInt64(digits) else { throw invalid }
    let multiplier: UInt64
    switch unit {
    case "", "b": multiplier = 1
    case "k", "kb": multiplier = 1_000
    case "m", "mb": multiplier = 1_000_000
    case "g", "gb": multiplier = 1_000_000_000
    case "t", "tb": multiplier = 1_000_000_000_000
    case "ki", "kib": multiplier = 1 << 10
    case "mi", "mib": multiplier = 1 << 20
    case "gi", "gib": multiplier = 1 << 30
    case "ti", "tib": multiplier = 1 << 40
    default: throw invalid
    }
    let (value, overflow) = number.multipliedReportingOverflow(by: multiplier)
    guard !overflow else { throw CotarError(.invalidArgument, "size '\(text)' does not fit in 64 bits") }
    return value
  }
}
