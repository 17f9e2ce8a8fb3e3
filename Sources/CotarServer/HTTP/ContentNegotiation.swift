/// Parsing of `Accept-Encoding` (RFC 9110 §12.5.3) for the one coding the server offers.
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
}
