/// Proactive negotiation (RFC 9110 §12): `Accept-Encoding` (§12.5.3) for the one coding the
/// server offers, and `Accept` (§12.5.1) for routes with more than one representation.
package enum ContentNegotiation {
  /// Whether a client with this `Accept-Encoding` header takes `gzip`.
  ///
  /// `gzip`, `x-gzip` or `*` with a non-zero quality accept it; an explicit `gzip;q=0`
  /// refuses it even when `*` is present. No header means no coding is known to be
  /// acceptable, so the server decompresses.
  package static func acceptsGzip(_ header: String?) -> Bool {
    guard let header else { return false }
    var wildcard: Bool?
    for item in header.split(separator: ",") {
      let parts = item.split(separator: ";")
      guard let coding = parts.first?.trimmingASCIISpaces().lowercased() else { continue }
      var quality = 1.0
      for parameter in parts.dropFirst() {
        let pair = parameter.trimmingASCIISpaces()
        if pair.lowercased().hasPrefix("q=") { quality = Double(pair.dropFirst(2)) ?? 0 }
      }
      switch coding {
      case "gzip", "x-gzip": return quality > 0
      case "*": wildcard = quality > 0
      default: continue
      }
    }
    return wildcard ?? false
  }

  /// The type of `offered` that a client with this `Accept` header prefers, or `nil` when it
  /// accepts none of them (the caller answers `406`).
  ///
  /// Each offered type takes the quality of the most specific media range that matches it
  /// (`type/subtype`, then `type/*`, then `*/*`; parameters other than `q` are ignored); the
  /// highest quality above zero wins, then the type named explicitly over one reached by a
  /// wildcard, then the earlier in `offered`. No header, or one with no well-formed media range,
  /// accepts anything: the first offered type.
  /// - Parameter offered: lower-case `type/subtype` values, in the server's order of preference.
  package static func preferredMediaType(_ header: String?, offered: [String]) -> String? {
    let ranges = header.map(mediaRanges) ?? []
    guard !ranges.isEmpty else { return offered.first }
    var best: (type: String, quality: Double, specificity: Int)?
    for type in offered {
      let wildcard = String(type.prefix(while: { $0 != "/" })) + "/*"
      var match: (quality: Double, specificity: Int)?
      for range in ranges {
        let specificity: Int
        if range.type == type {
          specificity = 2
        } else if range.type == wildcard {
          specificity = 1
        } else if range.type == "*/*" {
          specificity = 0
        } else {
          continue
        }
        // The most specific range decides; of equally specific ones, the highest quality.
        if let current = match,
          current.specificity > specificity || (current.specificity == specificity && current.quality >= range.quality)
        {
          continue
        }
        match = (range.quality, specificity)
      }
      guard let match, match.quality > 0 else { continue }
      if let best, best.quality > match.quality || (best.quality == match.quality && best.specificity >= match.specificity) {
        continue
      }
      best = (type, match.quality, match.specificity)
    }
    return best?.type
  }

  /// The well-formed media ranges of an `Accept` header, lower-cased, each with its quality
  /// (1 unless `q` says otherwise; a `q` that is not a number counts as 0).
  private static func mediaRanges(_ header: String) -> [(type: String, quality: Double)] {
    var ranges: [(type: String, quality: Double)] = []
    for item in header.split(separator: ",") {
      let parts = item.split(separator: ";")
      guard let type = parts.first?.trimmingASCIISpaces().lowercased() else { continue }
      let halves = type.split(separator: "/", omittingEmptySubsequences: false)
      guard halves.count == 2, !halves[0].isEmpty, !halves[1].isEmpty, halves[0] != "*" || halves[1] == "*" else { continue }
      var quality = 1.0
      for parameter in parts.dropFirst() {
        let pair = parameter.trimmingASCIISpaces().lowercased()
        if pair.hasPrefix("q=") { quality = min(1, max(0, Double(pair.dropFirst(2)) ?? 0)) }
      }
      ranges.append((type, quality))
    }
    return ranges
  }
}
