import CotarCore
import CotarServer
import CotarTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Browsing pages (HTML for browsers)", .timeLimit(.minutes(1)))
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
    #expect(AcceptPreference.prefersHTML(Self.browser))
    #expect(!AcceptPreference.prefersHTML("*/*"))
    #expect(!AcceptPreference.prefersHTML(nil))
    #expect(!AcceptPreference.prefersHTML("application/json, text/html"))
    #expect(!AcceptPreference.prefersHTML("text/html;q=0"))
    #expect(AcceptPreference.prefersHTML("text/html"))
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
    }
  }
}

