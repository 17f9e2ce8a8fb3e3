/// The built-in table mapping file extensions to `Content-Type` values.
package enum MediaTypes {
  /// The type for unknown extensions.
  package static let fallback = "application/octet-stream"

  /// Lower-case extension → media type.
  package static let byExtension: [String: String] = [
    "json": "application/json", "geojson": "application/geo+json",
    "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8", "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8",
    "xml": "application/xml", "svg": "image/svg+xml",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
    "gif": "image/gif", "avif": "image/avif", "ico": "image/x-icon",
    "tif": "image/tiff", "tiff": "image/tiff",
    "pbf": "application/x-protobuf", "mvt": "application/vnd.mapbox-vector-tile",
    "wasm": "application/wasm", "pdf": "application/pdf", "zip": "application/zip",
    "tar": "application/x-tar", "gz": "application/gzip", "bin": "application/octet-stream",
    "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
    "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg", "wav": "audio/wav",
    "parquet": "application/vnd.apache.parquet", "pmtiles": "application/vnd.pmtiles",
  ]

  /// The media type for the extension of the last path segment of `path` (case-insensitive).
  package static func type(forPath path: some BidirectionalCollection<UInt8>) -> String {
    guard let ext = fileExtension(of: path) else { return fallback }
    return byExtension[ext] ?? fallback
  }

  /// The lower-cased extension of the last path segment, without the dot; `nil` if none.
  package static func fileExtension(of path: some BidirectionalCollection<UInt8>) -> String? {
    var ext: [UInt8] = []
    for byte in path.reversed() {
      if byte == UInt8(ascii: ".") { break }
      if byte == UInt8(ascii: "/") || ext.count > 16 { return nil }
      ext.append(byte)
    }
    guard ext.count < path.count, !ext.isEmpty else { return nil }
    return String(decoding: ext.reversed(), as: UTF8.self).lowercased()
  }
}
