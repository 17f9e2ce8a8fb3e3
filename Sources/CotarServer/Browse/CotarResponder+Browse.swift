import CotarCore
import HTTPTypes
import Hummingbird
import NIOCore

extension CotarResponder {
  /// The most rows on one directory page unless `limit` asks for fewer (or more, up to
  /// ``maximumPageRows``).
  static let defaultPageRows = 500
  /// The largest `limit`.
  static let maximumPageRows = 10_000
  /// The most bytes of a text file shown in its preview.
  static let previewBytes = 64 << 10

  /// The query parameters of a request, percent-decoded to bytes (`+` is a space); a
  /// parameter without `=` has an empty value.
  static func queryItems(_ request: Request) -> [String: [UInt8]] {
    var items: [String: [UInt8]] = [:]
    guard let query = request.uri.query else { return items }
    for pair in query.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = String(parts[0])
      let raw = parts.count > 1 ? String(parts[1]).replacingPlus() : ""
      items[key] = PercentEncoding.decode(raw) ?? []
    }
    return items
  }

  func site(for archive: Int) -> BrowsePage.Site {
    let served = archives[archive]
    let segment = archive == 0 ? "" : "/" + HTMLText.urlPath(Array(served.name.utf8))
    let others = archives.indices.filter { $0 != archive }.map { other in
      (
        name: archives[other].name,
        url: other == 0 ? "/v1/list/" : "/v1/" + HTMLText.urlPath(Array(archives[other].name.utf8)) + "/list/"
      )
    }
    return BrowsePage.Site(
      archiveName: served.name, archiveSegment: segment, modified: served.lastModified?.description, otherArchives: others)
  }

  /// The HTML page of a directory: its children (filtered by `filter`, a case-insensitive
  /// substring of the name), `limit` rows from after `cursor`.
  func directoryPage(_ directory: [UInt8], archive: Int, request: Request) async throws -> Reply {
    let head = request.method == .head
    let served = archives[archive]
    guard configuration.listingEnabled, let listing = served.listing else {
      let reason = Self.noListingReason(enabled: configuration.listingEnabled)
      return Reply(Self.html(.notFound, BrowsePage.message("No listing", reason.prefix(1).uppercased() + reason.dropFirst() + "."), head: head))
    }
    guard let children = listing.directory(directory) else {
      return Reply(Self.html(.notFound, BrowsePage.message("Not found", "No such directory."), head: head))
    }
    let query = Self.queryItems(request)
    let filter = String(decoding: query["filter"] ?? [], as: UTF8.self)
    let needle = filter.lowercased()
    let cursor = query["cursor"]
    let limit = min(Self.maximumPageRows, max(1, Int(String(decoding: query["limit"] ?? [], as: UTF8.self)) ?? Self.defaultPageRows))
    var rows: [BrowsePage.Row] = []
    var total = 0
    var last: [UInt8]?
    var more = false
    for child in children {
      let path: [UInt8]
      let isDirectory: Bool
      switch child {
      case .file(let file): (path, isDirectory) = (file, false)
      case .directory(let sub): (path, isDirectory) = (sub, true)
      }
      if !needle.isEmpty {
        let name = String(decoding: path.dropFirst(children.prefix.count), as: UTF8.self).lowercased()
        guard name.contains(needle) else { continue }
      }
      total += 1
      if let cursor, ArchiveListing.compare(path, cursor) <= 0 { continue }
      guard rows.count < limit else {
        more = true
        continue
      }
      if isDirectory {
        rows.append(BrowsePage.Row(path: path, size: nil, type: nil))
      } else {
        let entry = try await lookup(path, in: served)
        rows.append(
          BrowsePage.Row(
            path: path, size: entry?.size ?? 0, type: MediaTypes.type(forPath: path),
            modified: listing.modificationTime(of: path).map(HTTPDate.init(secondsSince1970:))))
      }
      last = path
    }
    var next: String?
    if more, let last {
      var query = "cursor=" + HTMLText.queryValue(last) + "&limit=\(limit)"
      if !filter.isEmpty { query += "&filter=" + HTMLText.queryValue(Array(filter.utf8)) }
      next = query
    }
    let page = BrowsePage.directory(
      site(for: archive), directory: children.prefix, rows: rows, total: total, filter: filter, nextPage: next)
    return Reply(Self.html(.ok, page, head: head))
  }

  /// The HTML preview page of a file (`/v1/file/<path>?view`).
  func previewPage(_ path: [UInt8], archive: Int, request: Request) async throws -> Reply {
    let head = request.method == .head
    let served = archives[archive]
    guard let entry = try await lookup(path, in: served), isWithinArchive(entry, served) else {
      return Reply(Self.html(.notFound, BrowsePage.message("Not found", "No such entry."), head: head))
    }
    let type = MediaTypes.type(forPath: path)
    let preview: BrowsePage.Preview
    if type.hasPrefix("image/") {
      preview = .image
    } else if BrowsePage.isText(type) {
      let count = Int(min(entry.size, UInt64(Self.previewBytes)))
      let range = entry.offset..<(entry.offset + UInt64(count))
      let check = served.cotar.headerCheck(for: entry, path: String(decoding: path, as: UTF8.self))
      let bytes = count == 0 ? [] : try await EntryHeaderCheck.read(range, from: served.cotar.data, checking: check)
      preview = .text(String(decoding: bytes, as: UTF8.self), truncated: entry.size > UInt64(count))
    } else {
      preview = .none
    }
    let modified = served.listing?.modificationTime(of: path).map(HTTPDate.init(secondsSince1970:))
    let page = BrowsePage.file(
      site(for: archive), path: path, size: entry.size, type: type, modified: modified, preview: preview)
    return Reply(Self.html(.ok, page, head: head))
  }

  /// An HTML response with `Vary: Accept` (the same URL answers JSON to other clients).
  static func html(_ status: HTTPResponse.Status, _ text: String, head: Bool) -> Response {
    let buffer = ByteBuffer(string: text)
    var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .vary: "Accept"]
    headers[.contentLength] = String(buffer.readableBytes)
    headers[.contentSecurityPolicy] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    headers[.xContentTypeOptions] = "nosniff"
    return Response(status: status, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: buffer))
  }
}

extension BrowsePage {
  /// A small page with a heading and a sentence (for 404s seen in a browser).
  package static func message(_ title: String, _ text: String) -> String {
    document(title: title, body: "<header><h1>\(HTMLText.escaped(title))</h1></header><main><p>\(HTMLText.escaped(text))</p></main>", script: false)
  }
}

extension String {
  fileprivate func replacingPlus() -> String {
    String(unicodeScalars.map { $0 == "+" ? " " : Character($0) })
  }
}
