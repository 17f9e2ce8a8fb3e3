extension SourceResolver {
  /// `location` as messages, logs, statistics and cache keys show it: a URL (any scheme but
  /// `file://`) without its user information (`user:password@`) and without its query and
  /// fragment, which carry the credentials of signed URLs (`X-Amz-Signature=…`); a local path
  /// unchanged.
  ///
  /// Only the authority (from `://` to the first `/`) is searched for user information; its
  /// last `@` ends it, so an `@` in the path stays.
  public static func redacted(_ location: String) -> String {
    guard isRemote(location) else { return location }
    var text = Substring(location)
    if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
    guard let schemeEnd = text.firstRange(of: "://") else { return String(text) }
    let authorityStart = schemeEnd.upperBound
    let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
    guard let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") else { return String(text) }
    return String(text[..<authorityStart]) + String(text[text.index(after: at)...])
  }
}
