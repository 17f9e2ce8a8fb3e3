import CotarCore

/// Shared wording of messages: counts with the right plural, and the paths a user may have
/// meant.

/// `1 file`, `2 files`; `plural` for irregular words.
func cotarCounted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
  counted(count, singular, plural)
}

/// `1 file`, `2 files`; `plural` for irregular words.
func counted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
  "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}

/// The same path spelled as tar tools store it differently: `./bin/cat` for `bin/cat` and the
/// reverse, and both for `/bin/cat` (what "did you mean" tries).
func alternativeSpellings(_ path: [UInt8]) -> [[UInt8]] {
  let dotSlash: [UInt8] = [0x2E, 0x2F]
  if path.starts(with: dotSlash) {
    let rest = Array(path.dropFirst(2).drop { $0 == 0x2F })
    return rest.isEmpty ? [] : [rest]
  }
  let rest = Array(path.drop { $0 == 0x2F })
  guard !rest.isEmpty else { return [] }
  return rest.count == path.count ? [dotSlash + rest] : [rest, dotSlash + rest]
}

/// `; did you mean 'X'?` for the first of `candidates` that `exists`, else "".
func didYouMean(_ path: [UInt8], _ exists: ([UInt8]) async throws -> Bool) async rethrows -> String {
  for candidate in alternativeSpellings(path) where try await exists(candidate) {
    return "; did you mean '\(String(decoding: escapedName(candidate), as: UTF8.self))'?"
  }
  return ""
}
