import Hummingbird
import NIOCore
import Synchronization
import Testing

@testable import CotarServer

/// Records the chunks a response body writes.
struct RecordingWriter: ResponseBodyWriter {
  final class Box: Sendable {
    struct Recorded {
      var sizes: [Int] = []
      var bytes: [UInt8] = []
      var finished = false
    }
    let keepBytes: Bool
    private let recorded = Mutex(Recorded())

    init(keepBytes: Bool = true) { self.keepBytes = keepBytes }

    var sizes: [Int] { recorded.withLock { $0.sizes } }
    var bytes: [UInt8] { recorded.withLock { $0.bytes } }
    var finished: Bool { recorded.withLock { $0.finished } }

    func record(_ buffer: ByteBuffer) {
      recorded.withLock { recorded in
        recorded.sizes.append(buffer.readableBytes)
        if keepBytes { recorded.bytes += buffer.readableBytesView }
      }
    }

    func finish() { recorded.withLock { $0.finished = true } }
  }
  let box: Box

  mutating func write(_ buffer: ByteBuffer) async throws { box.record(buffer) }

  consuming func finish(_ trailingHeaders: HTTPFields?) async throws { box.finish() }
}

@Suite("Directory listing")
struct ListingTests {
  @Test("Children of the root and of nested directories, sorted and de-duplicated")
  func children() throws {
    let listing = try ArchiveListing(
      paths: ["z.txt", "a/b/c.txt", "/a/x.txt", "a/b/d.txt", "./a/x.txt", "dir/", "a/bb/e.txt", "m.txt"].map { Array($0.utf8) })
    #expect(listing.count == 6)
    func names(_ directory: String) -> [String]? {
      listing.directory(Array(directory.utf8)).map { children in
        children.map { child -> String in
          switch child {
          case .file(let path): "f:" + String(decoding: path, as: UTF8.self)
          case .directory(let path): "d:" + String(decoding: path, as: UTF8.self)
          }
        }
      }
    }
    #expect(names("") == ["d:a/", "f:m.txt", "f:z.txt"])
    #expect(names("/") == ["d:a/", "f:m.txt", "f:z.txt"])
    #expect(names("a") == ["d:a/b/", "d:a/bb/", "f:a/x.txt"])
    #expect(names("/a/b/") == ["f:a/b/c.txt", "f:a/b/d.txt"])
    #expect(names("a/b/c.txt") == nil)
    #expect(names("nope") == nil)
    #expect(names("dir") == nil)
  }

  @Test("linz-compatible JSON with percent-encoded URLs")
  func json() throws {
    let listing = try ArchiveListing(paths: [Array("d/a b.txt".utf8), Array("d/e/f".utf8), Array("d/".utf8) + [0xFF]])
    let directory = try #require(listing.directory(Array("d".utf8)))
    let body = ListingJSON(directory: directory, baseURL: "http://h:1", archiveSegment: "/x.tar.co")
    let text = body.map { String(buffer: $0) }.joined()
    #expect(
      text == #"{"files":["http://h:1/v1/x.tar.co/file/d/a%20b.txt","http://h:1/v1/x.tar.co/list/d/e/","http://h:1/v1/x.tar.co/file/d/%FF"]}"#)
    let empty = try ArchiveListing(paths: [[UInt8]]())
    let root = try #require(empty.directory([]))
    #expect(ListingJSON(directory: root, baseURL: "", archiveSegment: "").map { String(buffer: $0) }.joined() == #"{"files":[]}"#)
  }

  @Test("A 1M-entry listing streams in bounded chunks", .timeLimit(.minutes(5)))
  func millionEntries() async throws {
    let count = 1_000_000
    // Sorted synthetic names: 1000 directories of 10 files, plus 1000 files at the root.
    var paths: [[UInt8]] = []
    let digits = (0..<1000).map { Array(String(1000 + $0).dropFirst().utf8) }
    for d in 0..<1000 {
      let prefix = Array("d".utf8) + digits[d] + [UInt8(ascii: "/")]
      for f in 0..<10 { paths.append(prefix + digits[f] + Array(".pbf".utf8)) }
    }
    for f in 0..<1000 { paths.append(Array("f".utf8) + digits[f]) }
    let listing = try ArchiveListing(paths: paths)
    #expect(listing.count == 11_000)

    // The root: 1000 sub-directories and 1000 files, in several chunks.
    let chunkLimit = 16 << 10
    let root = try #require(listing.directory([]))
    let box = RecordingWriter.Box()
    try await CotarResponder.listingBody(ListingJSON(directory: root, baseURL: "", archiveSegment: "", chunkSize: chunkLimit))
      .write(RecordingWriter(box: box))
    #expect(box.finished)
    #expect(box.sizes.count > 1)
    #expect(box.sizes.max() ?? 0 <= chunkLimit)
    let text = String(decoding: box.bytes, as: UTF8.self)
    #expect(text.hasPrefix(#"{"files":["/v1/list/d000/","/v1/list/d001/""#))
    #expect(text.hasSuffix(#""/v1/file/f999"]}"#))
    #expect(text.split(separator: ",").count == 2000)

    // A flat listing of every file: one directory holding a million entries.
    var name = Array("t/10000000".utf8)
    let flat = try ArchiveListing(
      paths: (0..<count).lazy.map { _ in
        defer {  // the next decimal number, in place
          var position = name.count - 1
          while name[position] == UInt8(ascii: "9") {
            name[position] = UInt8(ascii: "0")
            position -= 1
          }
          name[position] += 1
        }
        return name
      })
    let big = try #require(flat.directory(Array("t".utf8)))
    let flatBox = RecordingWriter.Box(keepBytes: false)
    try await CotarResponder.listingBody(ListingJSON(directory: big, baseURL: "", archiveSegment: "", chunkSize: 64 << 10))
      .write(RecordingWriter(box: flatBox))
    let total = flatBox.sizes.reduce(0, +)
    // Each URL is `"/v1/file/t/1xxxxxxx"` (21 bytes) plus a comma between them.
    #expect(total == 10 + count * 21 + (count - 1) + 2)
    #expect(flatBox.sizes.count >= total / (64 << 10))
    #expect(flatBox.sizes.max() ?? 0 <= 64 << 10)
  }
}
