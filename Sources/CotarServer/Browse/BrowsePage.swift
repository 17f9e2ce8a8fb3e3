/// The server-rendered HTML pages of `cotar serve`'s browser view: a directory page and a
/// file preview page. Everything (style and the optional filter script) is inline; the pages
/// work without JavaScript; every name is escaped and every URL percent-encoded.
package enum BrowsePage {
  /// One row of a directory page.
  package struct Row: Sendable {
    /// The full path (without a leading `/`); a directory ends in `/`.
    package var path: [UInt8]
    /// The entry size; `nil` for a directory.
    package var size: UInt64?
    /// The media type (files only).
    package var type: String?
    /// The modification time of a file, when the archive's name table or tar headers give it.
    package var modified: HTTPDate? = nil
  }

  /// Where pages live: `/v1` plus the archive segment (`""` or `/<name>`).
  package struct Site: Sendable {
    /// The archive's URL name, shown as the first breadcrumb.
    package var archiveName: String
    /// `""` for the first archive, `/<encoded name>` for the others.
    package var archiveSegment: String
    /// The archive's modification time, shown in the header.
    package var modified: String?
    /// The other archives: (name, URL of their root page, already escaped for HTML).
    package var otherArchives: [(name: String, url: String)]

    package func listURL(_ directory: some Collection<UInt8>) -> String {
      "/v1\(archiveSegment)/list/" + HTMLText.urlPath(directory)
    }
    package func fileURL(_ path: some Collection<UInt8>) -> String {
      "/v1\(archiveSegment)/file/" + HTMLText.urlPath(path)
    }
  }

  static let style = """
    :root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6570;--line:#d8dee4;--accent:#0b63c5;--bg:#fff;--row:#f4f6f8}
    @media (prefers-color-scheme:dark){:root{--fg:#e6e9ec;--muted:#9aa4ae;--line:#333a41;--accent:#6cb4ff;--bg:#15181b;--row:#1e2226}}
    *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
    header{padding:16px 24px;border-bottom:1px solid var(--line)}main{padding:8px 24px 32px}
    h1{font-size:20px;margin:0 0 6px;word-break:break-all}a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
    .crumbs{font-size:14px;color:var(--muted);word-break:break-all}.crumbs a{margin:0 2px}.meta{color:var(--muted);font-size:13px;margin:4px 0 0}
    form{margin-top:12px;display:flex;gap:8px;max-width:520px}input[type=search]{flex:1;padding:7px 10px;font:inherit;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
    button{padding:7px 14px;font:inherit;border:1px solid var(--line);border-radius:6px;background:var(--row);color:var(--fg);cursor:pointer}
    table{border-collapse:collapse;width:100%;max-width:1100px}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
    th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}tbody tr:hover{background:var(--row)}
    td.name{word-break:break-all}td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.type{color:var(--muted);font-size:13px}td.date{white-space:nowrap;font-variant-numeric:tabular-nums;color:var(--muted);font-size:13px}
    .icon{display:inline-block;width:1.4em;color:var(--muted)}.pages{margin-top:14px;display:flex;gap:16px}
    .preview{margin-top:16px;max-width:1100px}.preview img{max-width:100%;max-height:75vh;min-width:min(160px,100%);image-rendering:pixelated;border:1px solid var(--line);background:repeating-conic-gradient(#8882 0 25%,transparent 0 50%) 0 0/16px 16px}
    pre{padding:12px;border:1px solid var(--line);border-radius:6px;background:var(--row);overflow:auto;max-height:75vh;font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all}
    .actions{display:flex;gap:12px;margin-top:10px}.actions a{padding:6px 12px;border:1px solid var(--line);border-radius:6px}
    .empty{color:var(--muted);padding:16px 0}
    """

  /// Live filtering of the rows already on the page (the form filters on the server
  /// without JavaScript).
  static let script = """
    (function(){var f=document.getElementById('filter');if(!f)return;var rows=document.querySelectorAll('#entries tbody tr');
    f.addEventListener('input',function(){var q=f.value.toLowerCase();rows.forEach(function(r){r.hidden=q&&r.dataset.name.toLowerCase().indexOf(q)<0;});});})();
    """

  static func document(title: String, body: String, script: Bool) -> String {
    """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
    <title>\(HTMLText.escaped(title))</title><style>\(style)</style></head>
    <body>\(body)\(script ? "<script>\(Self.script)</script>" : "")</body></html>
    """
  }

  /// Breadcrumbs for `path` (a directory ending in `/`, or a file): the archive root, then
  /// each directory; the last segment is plain text.
  static func crumbs(_ site: Site, path: [UInt8]) -> String {
    var html = "<nav class=\"crumbs\" aria-label=\"Breadcrumbs\"><a href=\"\(site.listURL([UInt8]()))\">\(HTMLText.escaped(site.archiveName))</a>"
    let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
    var prefix: [UInt8] = []
    for (position, segment) in segments.enumerated() {
      prefix += segment
      prefix.append(UInt8(ascii: "/"))
      html += " / "
      if position == segments.count - 1 {
        html += "<span>\(HTMLText.escaped(bytes: segment))</span>"
      } else {
        html += "<a href=\"\(site.listURL(prefix))\">\(HTMLText.escaped(bytes: segment))</a>"
      }
    }
    return html + "</nav>"
  }

  /// A directory page.
  ///
  /// - Parameters:
  ///   - directory: the directory with a trailing `/`, or empty for the root.
  ///   - rows: the children on this page, in order.
  ///   - total: the number of children matching the filter (all pages).
  ///   - filter: the filter text, if any.
  ///   - nextPage: the query of the next page, if there is one.
  package static func directory(
    _ site: Site, directory: [UInt8], rows: [Row], total: Int, filter: String, nextPage: String?
  ) -> String {
    let shown = directory.isEmpty ? "/" : "/" + String(decoding: directory, as: UTF8.self)
    var body = "<header>\(crumbs(site, path: directory))<h1>\(HTMLText.escaped(site.archiveName))\(HTMLText.escaped(shown))</h1>"
    var meta = "\(total) \(total == 1 ? "entry" : "entries")"
    if !filter.isEmpty { meta += " matching “\(HTMLText.escaped(filter))”" }
    if let modified = site.modified { meta += " · archive modified \(HTMLText.escaped(modified))" }
    body += "<p class=\"meta\">\(meta)</p>"
    body += """
      <form method="get" role="search"><input type="search" id="filter" name="filter" value="\(HTMLText.escaped(filter))" \
      placeholder="Filter names" aria-label="Filter names"><button type="submit">Filter</button></form></header><main>
      """
    if rows.isEmpty {
      body += "<p class=\"empty\">No entries\(filter.isEmpty ? "" : " match this filter").</p>"
    } else {
      body += "<table id=\"entries\"><thead><tr><th>Name</th><th class=\"num\">Size</th><th>Modified (UTC)</th><th>Type</th><th></th></tr></thead><tbody>"
      for row in rows {
        let name = Array(row.path.dropFirst(directory.count))
        let display = HTMLText.escaped(bytes: name)
        if row.size == nil {
          body += "<tr class=\"dir\" data-name=\"\(display)\"><td class=\"name\"><span class=\"icon\">▸</span><a href=\"\(site.listURL(row.path))\">\(display)</a></td><td class=\"num\">—</td><td></td><td class=\"type\">directory</td><td></td></tr>"
        } else {
          let url = site.fileURL(row.path)
          body += "<tr data-name=\"\(display)\"><td class=\"name\"><span class=\"icon\">·</span><a href=\"\(url)?view\">\(display)</a></td>"
          body += "<td class=\"num\">\(HTMLText.size(row.size ?? 0))</td><td class=\"date\">\(row.modified.map(Self.date) ?? "")</td><td class=\"type\">\(HTMLText.escaped(row.type ?? ""))</td>"
          body += "<td><a href=\"\(url)\" download>download</a></td></tr>"
        }
      }
      body += "</tbody></table>"
    }
    if let nextPage {
      body += "<nav class=\"pages\"><a href=\"?\(HTMLText.escaped(nextPage))\" rel=\"next\">Next page →</a></nav>"
    }
    if !site.otherArchives.isEmpty {
      body += "<p class=\"meta\">Other archives: "
      body += site.otherArchives.map { "<a href=\"\($0.url)\">\(HTMLText.escaped($0.name))</a>" }.joined(separator: ", ")
      body += "</p>"
    }
    body += "</main>"
    return document(title: "\(site.archiveName)\(shown)", body: body, script: true)
  }

  /// A `<time>` element showing `date` as `YYYY-MM-DD HH:MM` (UTC; the seconds are in its
  /// `datetime` attribute and its title).
  static func date(_ date: HTTPDate) -> String {
    let (day, time) = date.calendarParts
    return "<time datetime=\"\(date.iso8601)\" title=\"\(date)\">\(day) \(time.prefix(5))</time>"
  }

  /// What a preview page shows of a file.
  package enum Preview: Sendable {
    /// An image, shown with `<img>` from the file URL.
    case image
    /// The first bytes of a text file (`truncated` when there is more).
    case text(String, truncated: Bool)
    /// Nothing to show for this type.
    case none
  }

  /// The preview page of one file.
  package static func file(
    _ site: Site, path: [UInt8], size: UInt64, type: String, modified: HTTPDate? = nil, preview: Preview
  ) -> String {
    let url = site.fileURL(path)
    let name = path.split(separator: UInt8(ascii: "/")).last.map { Array($0) } ?? path
    var body = "<header>\(crumbs(site, path: path))<h1>\(HTMLText.escaped(bytes: name))</h1>"
    body += "<p class=\"meta\">\(HTMLText.size(size)) · \(HTMLText.escaped(type))"
    if let modified { body += " · modified \(date(modified)) UTC" }
    if let modified = site.modified { body += " · archive modified \(HTMLText.escaped(modified))" }
    body += "</p><div class=\"actions\"><a href=\"\(url)\" download>Download</a><a href=\"\(url)\">Open raw</a></div></header><main><div class=\"preview\">"
    switch preview {
    case .image:
      body += "<img src=\"\(url)\" alt=\"\(HTMLText.escaped(bytes: name))\">"
    case .text(let text, let truncated):
      body += "<pre id=\"text\">\(HTMLText.escaped(text))</pre>"
      if truncated { body += "<p class=\"meta\">Showing the first \(HTMLText.size(UInt64(text.utf8.count))); download for the rest.</p>" }
    case .none:
      body += "<p class=\"empty\">No preview for \(HTMLText.escaped(type)).</p>"
    }
    body += "</div></main>"
    return document(title: String(decoding: name, as: UTF8.self), body: body, script: false)
  }

  /// Whether a media type is previewed as text.
  package static func isText(_ type: String) -> Bool {
    type.hasPrefix("text/") || type.hasPrefix("application/json") || type.hasPrefix("application/geo+json")
      || type.hasPrefix("application/xml")
  }
}
