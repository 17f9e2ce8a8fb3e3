import CotarTestSupport
import Foundation
import Testing

/// The browsing page in a real browser: headless Chromium loads pages from `cotar serve`.
@Suite("Browsing page in headless Chromium", .serialized, .timeLimit(.minutes(5)))
struct BrowserTests {
  static let chromium = ["chromium", "chromium-browser", "google-chrome"].first(where: ProcessRunner.isAvailable)

  /// Runs headless Chromium with `arguments` and its own throw-away profile.
  static func chromium(_ arguments: [String], profile: URL) async throws -> ProcessResult {
    try await ProcessRunner.runDetached(
      chromium ?? "chromium",
      ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--timeout=10000"]
        + arguments)
  }

  @Test(
    "A directory page and an image preview load in Chromium: DOM checked, screenshot produced",
    .enabled(if: chromium != nil, "chromium is not installed (apt-get install -y chromium)"))
  func pagesInChromium() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var builder = TestTar()
    builder.add("README.md", "# Demo archive\n\nServed by `cotar serve`.\n")
    builder.add("images/dot.png", TestImages.png)
    builder.add("images/a&b <odd>.txt", "escaped name\n")
    builder.add("data/points.json", #"{"type":"FeatureCollection","features":[]}"#)
    for index in 0..<5 { builder.add("tiles/0/\(index).pbf", [UInt8](repeating: UInt8(index), count: 1000 * (index + 1))) }
    let tar = directory.appendingPathComponent("demo.tar")
    try Data(builder.finished).write(to: tar)
    #expect(try await CLI.run(["create", tar.path]).status == 0)
    let server = try await ServeProcess.start([directory.appendingPathComponent("demo.tar.co").path, "--quiet"], in: directory)
    let base = "http://127.0.0.1:\(server.port)"
    let profile = directory.appendingPathComponent("profile")

    let listing = try await Self.chromium(["--dump-dom", "\(base)/v1/list/images/"], profile: profile)
    #expect(listing.status == 0, "\(listing.stderr)")
    let dom = listing.stdoutText
    #expect(dom.contains("<title>demo.tar.co/images/</title>"))
    #expect(dom.contains(#"<a href="/v1/list/">demo.tar.co</a>"#))
    #expect(dom.contains(#"<a href="/v1/file/images/dot.png?view">dot.png</a>"#))
    #expect(dom.contains("a&amp;b &lt;odd&gt;.txt"))
    #expect(dom.contains(#"id="filter""#))

    let preview = try await Self.chromium(["--dump-dom", "\(base)/v1/file/images/dot.png?view"], profile: profile)
    #expect(preview.stdoutText.contains(#"<img src="/v1/file/images/dot.png" alt="dot.png">"#))

    for (name, path) in [("listing", "/"), ("preview", "/v1/file/images/dot.png?view")] {
      let shot = directory.appendingPathComponent("\(name).png")
      let result = try await Self.chromium(
        ["--screenshot=\(shot.path)", "--window-size=1000,640", "--hide-scrollbars", "\(base)\(path)"], profile: profile)
      #expect(result.status == 0, "\(result.stderr)")
      let bytes = try Data(contentsOf: shot)
      #expect(bytes.count > 2000 && bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name): no screenshot")
      if let keep = ProcessInfo.processInfo.environment["COTAR_SCREENSHOT_DIR"] {
        try? FileManager.default.removeItem(atPath: "\(keep)/\(name).png")
        try FileManager.default.copyItem(atPath: shot.path, toPath: "\(keep)/\(name).png")
      }
    }
  }
}
