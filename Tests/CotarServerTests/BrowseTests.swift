import CotarCore
import CotarHTTP
import CotarServer
import CotarTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Browsing pages (HTML for browsers)", .timeLimit(.minutes(5)))
struct BrowseTests {
  static let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

  static func archive() async throws -> ServedArchive {
    var builder = TestTar()
    builder.add("readme.txt", "Read <me> & \"enjoy\"\n")
    builder.add("data/points.json", #"{"type":"FeatureCollection","features":[]}"#)
    builder.add("data/<img src=x onerror=alert(1)>.txt", "hostile name")
    builder.add("img/dot.png", TestImages.png)
    for index in 0..<25 { builder.add("many/file\(index < 10 ? "0" : "")\(index).bin", [UInt8](repeating: 7, count: index * 100)) }
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    return try await ServedArchive.open(
      name: "browse.tar.co", tar: MemorySource(tar + index, identity: "browse.tar.co"),
      lastModified: TestServer.lastModified)
  }

  @Test("Accept decides: browsers get HTML, curl and JSON clients keep the JSON listing")
  func negotiation() async throws {
    func prefersHTML(_ accept: String?) -> Bool {
      ContentNegotiation.preferredMediaType(accept, offered: ["application/json", "text/html"]) == "text/html"
    }
    #expect(prefersHTML(Self.browser))
    #expect(!prefersHTML("*/*"))
    #expect(!prefersHTML(nil))
    #expect(!prefersHTML("application/json, text/html"))
    #expect(!prefersHTML("text/html;q=0"))
    #expect(prefersHTML("text/html"))
    let app = try TestServer.application([try await Self.archive()])
    try await app.test(.router) { client in
      try await client.execute(uri: "/v1/list/", method: .get, headers: [.accept: Self.browser]) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/html; charset=utf-8")
        #expect(response.headers[.vary] == "Accept")
      }
      try await client.execute(uri: "/v1/list/", method: .get, headers: [.accept: "*/*"]) { response in
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.headers[.vary] == "Accept, Accept-Encoding")
        #expect(String(buffer: response.body).hasPrefix(#"{"files":"#))
      }
      try await client.execute(uri: "/", method: .get) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body).contains("<title>browse.tar.co/</title>"))
      }
    }
    var configuration = TestServer.configuration()
    configuration.browse = false
    try await TestServer.application([try await Self.archive()], configuration: configuration).test(.router) { client in
      try await client.execute(uri: "/v1/list/", method: .get, headers: [.accept: Self.browser]) {
        #expect($0.headers[.contentType] == "application/json")
      }
      try await client.execute(uri: "/", method: .get) { #expect($0.status == .notFound) }
    }
  }

  @Test("Accept on /v1/list is negotiated with q-values and wildcards; a type the listing does not offer gets 406 naming the offered ones")
  func acceptNegotiation() async throws {
    let both = ["application/json", "text/html"]
    #expect(ContentNegotiation.preferredMediaType("text/*", offered: both) == "text/html")
    #expect(ContentNegotiation.preferredMediaType("application/*", offered: both) == "application/json")
    #expect(ContentNegotiation.preferredMediaType("application/json;q=0, */*", offered: both) == "text/html")
    #expect(ContentNegotiation.preferredMediaType("text/html;q=0.5, */*;q=0.5", offered: both) == "text/html")
    #expect(ContentNegotiation.preferredMediaType("text/*;q=0.4, application/json;q=0.3", offered: both) == "text/html")
    #expect(ContentNegotiation.preferredMediaType("TEXT/HTML;Q=0.2, Application/JSON;q=0.9", offered: both) == "application/json")
    #expect(ContentNegotiation.preferredMediaType("text/*, text/html;q=0", offered: both) == nil)
    #expect(ContentNegotiation.preferredMediaType("*/*;q=0", offered: both) == nil)
    #expect(ContentNegotiation.preferredMediaType("application/xhtml+xml", offered: both) == nil)
    #expect(ContentNegotiation.preferredMediaType("text/plain", offered: ["application/json"]) == nil)
    #expect(ContentNegotiation.preferredMediaType("nonsense, */html", offered: both) == "application/json")
    #expect(ContentNegotiation.preferredMediaType("", offered: both) == "application/json")

    func check(_ app: Application<CotarResponder>, _ cases: [(accept: String, type: String?)], offered: String) async throws {
      try await app.test(.router) { client in
        for (accept, type) in cases {
          for method in [HTTPRequest.Method.get, .head] {
            try await client.execute(uri: "/v1/list/", method: method, headers: [.accept: accept]) { response in
              #expect(response.headers[.vary]?.hasPrefix("Accept") == true, "\(accept)")
              guard let type else {
                #expect(response.status == .notAcceptable, "\(accept)")
                #expect(response.headers[.contentType] == "application/json")
                if method == .get {
                  let body = String(buffer: response.body)
                  #expect(body.contains("this listing is available only as \(offered)"), "\(body)")
                  #expect(body.contains("'\(accept)'"), "\(body)")
                }
                return
              }
              #expect(response.status == .ok, "\(accept)")
              #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(accept): \(response.headers)")
            }
          }
        }
      }
    }
    let browsing = try TestServer.application([try await Self.archive()])
    try await check(
      browsing,
      [
        ("text/*", "text/html"), ("application/xhtml+xml", nil), ("text/plain", nil), ("image/*, text/plain;q=0.5", nil),
        ("application/*", "application/json"), ("application/json;q=0, */*", "text/html"), ("*/*;q=0", nil),
        ("text/plain, */*;q=0.1", "application/json"), (Self.browser, "text/html"), ("*/*", "application/json"),
      ],
      offered: "application/json or text/html")
    var configuration = TestServer.configuration()
    configuration.browse = false
    let plain = try TestServer.application([try await Self.archive()], configuration: configuration)
    try await check(
      plain,
      [
        ("text/*", nil), ("text/html", nil), ("application/xhtml+xml", nil), ("application/json;q=0, */*", nil),
        (Self.browser, "application/json"), ("*/*", "application/json"), ("application/*;q=0.1", "application/json"),
      ],
      offered: "application/json")
    configuration = TestServer.configuration()
    configuration.listingEnabled = false
    let unlisted = try TestServer.application([try await Self.archive()], configuration: configuration)
    try await unlisted.test(.router) { client in
      for accept in ["application/xhtml+xml", "text/html", "*/*"] {
        try await client.execute(uri: "/v1/list/", method: .get, headers: [.accept: accept]) { response in
          #expect(response.status == .notFound, "\(accept)")
          #expect(String(buffer: response.body).lowercased().contains("listing is disabled for this archive"), "\(accept)")
        }
      }
    }
  }

  @Test("Directory pages: breadcrumbs, sizes, download links, escaped names, filter and pages")
  func directoryPage() async throws {
    let app = try TestServer.application([try await Self.archive()])
    try await app.test(.router) { client in
      let html = try await client.execute(uri: "/v1/list/data/", method: .get, headers: [.accept: Self.browser]) {
        String(buffer: $0.body)
      }
      #expect(html.contains(#"<a href="/v1/list/">browse.tar.co</a> / <span>data</span>"#))
      #expect(html.contains(#"<a href="/v1/file/data/points.json?view">points.json</a>"#))
      #expect(html.contains(#"<a href="/v1/file/data/points.json" download>download</a>"#))
      #expect(html.contains(">42 B<"))
      #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;.txt"))
      #expect(!html.contains("<img src=x"))
      #expect(html.contains("/v1/file/data/%3Cimg%20src=x%20onerror=alert(1)%3E.txt?view"))
      #expect(html.contains("Tue, 14 Nov 2023 22:13:20 GMT"))

      let filtered = try await client.execute(uri: "/v1/list/many/?filter=FILE2", method: .get, headers: [.accept: Self.browser]) {
        String(buffer: $0.body)
      }
      #expect(filtered.contains("5 entries matching"))
      #expect(filtered.contains("file24.bin") && !filtered.contains("file19.bin"))

      let first = try await client.execute(uri: "/v1/list/many/?limit=10", method: .get, headers: [.accept: Self.browser]) {
        String(buffer: $0.body)
      }
      #expect(first.contains("file09.bin") && !first.contains("file10.bin"))
      #expect(first.contains(#"href="?cursor=many%2Ffile09.bin&amp;limit=10" rel="next""#))
      let second = try await client.execute(
        uri: "/v1/list/many/?cursor=many%2Ffile09.bin&limit=10", method: .get, headers: [.accept: Self.browser]
      ) { String(buffer: $0.body) }
      #expect(second.contains("file10.bin") && second.contains("file19.bin") && !second.contains("file09.bin"))
    }
  }

  @Test("Preview pages: text escaped in <pre>, images inline, others a download")
  func previews() async throws {
    let app = try TestServer.application([try await Self.archive()])
    try await app.test(.router) { client in
      let text = try await client.execute(uri: "/v1/file/readme.txt?view", method: .get) { String(buffer: $0.body) }
      #expect(text.contains("<pre id=\"text\">Read &lt;me&gt; &amp; &quot;enjoy&quot;\n</pre>"))
      let image = try await client.execute(uri: "/v1/file/img/dot.png?view", method: .get) { String(buffer: $0.body) }
      #expect(image.contains(#"<img src="/v1/file/img/dot.png" alt="dot.png">"#))
      let binary = try await client.execute(uri: "/v1/file/many/file03.bin?view", method: .get) { String(buffer: $0.body) }
      #expect(binary.contains("No preview for application/octet-stream"))
      try await client.execute(uri: "/v1/file/nothing.txt?view", method: .get) { #expect($0.status == .notFound) }
      // The raw file is unchanged without ?view.
      try await client.execute(uri: "/v1/file/img/dot.png", method: .get) {
        #expect(Array($0.body.readableBytesView) == TestImages.png)
      }
      // view is a boolean as recursive is: view=yes previews, view=0 gives the bytes, view=maybe is 400.
      for spelling in ["", "true", "YES", "1", "on"] {
        try await client.execute(uri: "/v1/file/img/dot.png?view=\(spelling)", method: .get) {
          #expect(String(buffer: $0.body).contains(#"<img src="/v1/file/img/dot.png" alt="dot.png">"#), "view=\(spelling)")
        }
      }
      for spelling in ["false", "No", "0", "off"] {
        try await client.execute(uri: "/v1/file/img/dot.png?view=\(spelling)", method: .get) {
          #expect(Array($0.body.readableBytesView) == TestImages.png, "view=\(spelling)")
        }
      }
      try await client.execute(uri: "/v1/file/img/dot.png?view=maybe", method: .get) { response in
        #expect(response.status == .badRequest)
        #expect(response.headers[.contentType] == "text/html; charset=utf-8")
        #expect(String(buffer: response.body).contains("view must be true or false (also 1/0, yes/no, on/off), not &#39;maybe&#39;"))
      }
    }
  }

  /// A tar whose files carry modification times (`dup.txt` twice: the later one is indexed).
  static func datedTar() -> [UInt8] {
    var builder = TestTar()
    builder.add(Array("docs/a.txt".utf8), data: Array("first\n".utf8), mtime: 1_700_000_000)  // 2023-11-14 22:13:20
    builder.add(Array("docs/sub/b.txt".utf8), data: Array("second\n".utf8), mtime: 946_684_800)  // 2000-01-01 00:00:00
    builder.add(Array("docs/dup.txt".utf8), data: Array("old\n".utf8), mtime: 1_000_000_000)
    builder.add(Array("docs/dup.txt".utf8), data: Array("new\n".utf8), mtime: 1_600_000_000)  // 2020-09-13 12:26:40
    return builder.finished
  }

  @Test("Directory and preview pages show each file's date, from the name table or from the tar headers")
  func entryDates() async throws {
    let tar = Self.datedTar()
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar), names: .init())
    let names = try #require(built.names)
    // With a table, the listing (and its dates) comes from it without a scan of the tar.
    let withTable = try await ServedArchive.open(
      name: "dated.tar.co", sources: .init(tar: MemorySource(tar + names + built.index.bytes, identity: "t"), index: .trailing),
      scanForListing: false)
    // Without one, a local archive is scanned at open, and the headers give the dates.
    let scanned = try await ServedArchive.open(
      name: "dated.tar.co", tar: MemorySource(tar + built.index.bytes, identity: "s"))
    for served in [withTable, scanned] {
      #expect(served.listing?.hasModificationTimes == true)
      try await TestServer.application([served]).test(.router) { client in
        let html = try await client.execute(uri: "/v1/list/docs/", method: .get, headers: [.accept: Self.browser]) {
          String(buffer: $0.body)
        }
        #expect(html.contains("<th>Modified (UTC)</th>"))
        #expect(html.contains(#"<td class="date"><time datetime="2023-11-14T22:13:20Z" title="Tue, 14 Nov 2023 22:13:20 GMT">2023-11-14 22:13</time></td>"#))
        #expect(html.contains(#"<time datetime="2020-09-13T12:26:40Z""#))
        #expect(!html.contains("2001-09-09"))  // the overwritten dup.txt's date
        // A directory row has no date.
        #expect(html.contains(#"<td class="num">—</td><td></td><td class="type">directory</td>"#))
        let sub = try await client.execute(uri: "/v1/list/docs/sub/", method: .get, headers: [.accept: Self.browser]) {
          String(buffer: $0.body)
        }
        #expect(sub.contains(#"<time datetime="2000-01-01T00:00:00Z""#))
        let preview = try await client.execute(uri: "/v1/file/docs/a.txt?view", method: .get) { String(buffer: $0.body) }
        #expect(preview.contains(#"modified <time datetime="2023-11-14T22:13:20Z""#))
      }
    }
    // A listing without times (built from paths alone) shows an empty date cell.
    let undated = try ArchiveListing(paths: [Array("docs/a.txt".utf8)])
    #expect(!undated.hasModificationTimes)
    #expect(undated.modificationTime(of: Array("docs/a.txt".utf8)) == nil)
    let listing = try #require(scanned.listing)
    #expect(listing.modificationTime(of: Array("/docs/a.txt".utf8)) == 1_700_000_000)
    #expect(listing.modificationTime(of: Array("docs/dup.txt".utf8)) == 1_600_000_000)
    #expect(listing.modificationTime(of: Array("docs/missing.txt".utf8)) == nil)
    #expect(listing.modificationTime(of: Array("docs".utf8)) == nil)
  }

  @Test("A remote archive with a name table is browsable and listed without a scan; without a table it says why not")
  func remoteArchiveWithTable() async throws {
    let tar = Self.datedTar()
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar), names: .init())
    let upstream = try await RangeServer.start()
    defer { Task { await upstream.stop() } }
    upstream.put("dated.tar.co", tar + (built.names ?? []) + built.index.bytes)
    upstream.put("plain.tar.co", tar + built.index.bytes)
    // As `cotar serve URL` opens it: a listing only from a table, never by a scan.
    let remote = try await ServedArchive.open(
      name: "dated.tar.co", sources: .init(tar: try HTTPRangeSource(url: upstream.url("dated.tar.co")), index: .trailing),
      scanForListing: false)
    let plain = try await ServedArchive.open(
      name: "plain.tar.co", sources: .init(tar: try HTTPRangeSource(url: upstream.url("plain.tar.co")), index: .trailing),
      scanForListing: false)
    #expect(plain.listing == nil)
    let requestsAtOpen = upstream.log.count
    #expect(requestsAtOpen <= 8)
    try await TestServer.application([remote, plain]).test(.router) { client in
      let html = try await client.execute(uri: "/v1/list/docs/", method: .get, headers: [.accept: Self.browser]) {
        #expect($0.status == .ok)
        return String(buffer: $0.body)
      }
      #expect(html.contains(#"<a href="/v1/file/docs/a.txt?view">a.txt</a>"#))
      #expect(html.contains(#"<a href="/v1/list/docs/sub/">sub/</a>"#))
      #expect(html.contains(">6 B<"))
      #expect(html.contains(#"<time datetime="2023-11-14T22:13:20Z""#))
      let json = try await client.execute(uri: "/v1/list/docs/?recursive=true", method: .get) {
        #expect($0.status == .ok)
        return String(buffer: $0.body)
      }
      #expect(json.contains("docs/a.txt") && json.contains("docs/sub/b.txt") && json.contains("docs/dup.txt"))
      let text = try await client.execute(uri: "/v1/file/docs/dup.txt", method: .get) { String(buffer: $0.body) }
      #expect(text == "new\n")
      try await client.execute(uri: "/v1/plain.tar.co/list/", method: .get, headers: [.accept: Self.browser]) {
        #expect($0.status == .notFound)
        #expect(String(buffer: $0.body).contains("no name table"))
      }
      try await client.execute(uri: "/v1/plain.tar.co/list/", method: .get) {
        #expect($0.status == .notFound)
        #expect(String(buffer: $0.body).contains("no name table"))
      }
    }
  }
}
