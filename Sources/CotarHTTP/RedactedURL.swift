/// `url` without user information and without its query and fragment, for messages, logs
/// and cache keys (signed URLs carry their credentials in the query).
func redactedURL(_ url: String) -> String {
  var text = Substring(url)
  if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
  guard let schemeEnd = text.firstRange(of: "://") else { return String(text) }
  let authorityStart = schemeEnd.upperBound
  let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
  let authority = text[authorityStart..<authorityEnd]
  guard let at = authority.lastIndex(of: "@") else { return String(text) }
  return String(text[..<authorityStart]) + String(text[text.index(after: at)...])
}

/// Whether `location` is an `http://` or `https://` URL (case-insensitive scheme).
func isRemoteLocation(_ location: String) -> Bool {
  let lower = location.prefix(8).lowercased()
  return lower.hasPrefix("http://") || lower.hasPrefix("https://")
}
