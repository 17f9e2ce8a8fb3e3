import CotarCore
import CotarHTTP
import CotarTestSupport
import Foundation
import Testing

/// Runs the README's "one entry point" example exactly as printed there.
@Suite("README example")
struct ReadmeExampleTests {
  /// The package root (the README's relative paths start there).
  static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  @Test("The README's example is this test's code, verbatim")
  func readmeShowsThisCode() throws {
    let readme = try String(contentsOfFile: Self.packageRoot + "/README.md", encoding: .utf8)
    let thisFile = try String(contentsOfFile: #filePath, encoding: .utf8)
    let block = try #require(Self.exampleBlock(in: readme))
    #expect(block.split(separator: "\n").count >= 5)
    let indentedBlock = block.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.isEmpty ? "" : "      " + $0 }.joined(separator: "\n")
    #expect(thisFile.contains(indentedBlock))
  }

  @Test("The README's example opens a .tar.co, a URL and a .tar with its sidecar")
  func readmeExampleRuns() async throws {
    let fixture = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.packageRoot + "/Fixtures/gnu-basic.tar.co")))
    try await withRangeServer { server in
      server.put("gnu-basic.tar.co", fixture)
      let server = "http://127.0.0.1:\(server.port)"
      #expect(FileManager.default.changeCurrentDirectoryPath(Self.packageRoot))

      // readme-example-begin
      let resolver = SourceResolver.http()
      let local = try await Cotar.open(location: "Fixtures/gnu-basic.tar.co", resolver: resolver)
      let remote = try await Cotar.open(location: "\(server)/gnu-basic.tar.co", resolver: resolver)
      let split = try await Cotar.open(location: "Fixtures/gnu-basic.tar", resolver: resolver)
      let hello = try await remote.read("dir/hello.txt")
      // readme-example-end

      #expect(hello == Array("Hello, cotar!\n".utf8))
      #expect(try await local.read("dir/hello.txt") == hello)
      #expect(try await split.read("dir/hello.txt") == hello)
      #expect(split.dataLimit == nil)
      #expect(local.dataLimit != nil)
    }
  }

  /// The lines between the example markers of the README's code block.
  static func exampleBlock(in readme: String) -> String? {
    guard let start = readme.range(of: "// readme-example-begin\n"),
      let end = readme.range(of: "// readme-example-end", range: start.upperBound..<readme.endIndex)
    else { return nil }
    return String(readme[start.lowerBound..<end.upperBound])
  }
}
