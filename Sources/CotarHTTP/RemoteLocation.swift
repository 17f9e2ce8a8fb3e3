/// Whether `location` is an `http://` or `https://` URL (case-insensitive scheme).
func isRemoteLocation(_ location: String) -> Bool {
  let lower = location.prefix(8).lowercased()
  return lower.hasPrefix("http://") || lower.hasPrefix("https://")
}
