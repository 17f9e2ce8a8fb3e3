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
public func isRemoteLocation(_ location: String) -> Bool {
  let lower = location.prefix(8).lowercased()
  return lower.hasPrefix("http://") || lower.hasPrefix("https://")
}

/// The guessed sidecar index of a remote `.tar` given without `--index`.
public enum SidecarGuess: Sendable, Hashable {
  /// Try this URL (`URL.index`); drop the guess only when it answers 404 or 410.
  case url(String)
  /// The URL carries a query (a presigned URL): its signature covers the tar only, so no
  /// sidecar URL can be guessed; an index must be given explicitly (`--index`).
  case needsExplicitIndex
  /// Not a `.tar` URL: read it as a `.tar.co`.
  case none
}

/// The sidecar to try for the remote archive `url`: `URL.index` for a `.tar` URL without a
/// query; nothing for a URL with a query (a presigned URL's signature must not be reused for
/// another object); nothing for other names.
public func guessSidecar(for url: String) -> SidecarGuess {
  var path = Substring(url)
  let hasQuery = url.contains("?")
  if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<cut] }
  guard path.lowercased().hasSuffix(".tar") else { return .none }
  return hasQuery ? .needsExplicitIndex : .url(String(path) + ".index")
}
