import CotarCore
import CotarHTTP
import CotarTestSupport
import Foundation
import Testing

/// A `.tar.gz` read over HTTP through its `.tar.gz.index` (SPEC §13).
@Suite("Gzip over HTTP", .timeLimit(.minutes(5)))
struct GzipHTTPTests {
  /// A tar of 200 files (4–20 KB) as gzip members of about 64 KiB each, and its index.
  static func archive(seed: UInt64) async throws -> (gz: [UInt8], index: [UInt8], files: [(path: String, bytes: [UInt8])]) {
    var random = SplitMix64(seed: seed)
    let files: [(path: String, bytes: [UInt8])] = (0..<200).map { number in
      let size = 4000 + Int(random.next() % 16_000)
      return ("d/\(number).txt", (0..<size).map { UInt8(ascii: "a") + UInt8(($0 * 3 + number + Int(seed)) % 26) })
    }
    let tar = TarBytes.make(files)
    var gz: [UInt8] = []
    var start = 0
    while start < tar.count {
      let end = min(tar.count, start + 100_000)
      gz += try gzipMember(tar[start..<end], level: 6)
      start = end
    }
    let built = try await GzipIndexBuilder.build(archive: MemorySource(gz), spacing: 64 << 10)
    return (gz, built.bytes, files)
  }

  @Test("a lookup costs at most 4 requests; a replaced .tar.gz is caught by its ETag")
  func etagChange() async throws {
    let first = try await Self.archive(seed: 1)
    let second = try await Self.archive(seed: 2)
    try await withRangeServer { server in
      server.put("a.tar.gz", first.gz)
      server.put("a.tar.gz.index", first.index)
      let cotar = try await Cotar.open(location: server.url("a.tar.gz"), resolver: SourceResolver.http())
      #expect(cotar.data is GzipTarSource)
      #expect(try await cotar.read(first.files[150].path) == first.files[150].bytes)
      #expect(server.requestCount <= 4, "\(server.log)")
      // Replace the archive (and its index) on the server: the pinned ETag no longer matches.
      server.put("a.tar.gz", second.gz)
      server.put("a.tar.gz.index", second.index)
      let error = await #expect(throws: CotarError.self) { try await cotar.read(first.files[10].path) }
      #expect(error?.code == .sourceChanged)
      // Opened again, the new archive reads correctly.
      let reopened = try await Cotar.open(location: server.url("a.tar.gz"), resolver: SourceResolver.http())
      #expect(try await reopened.read(second.files[10].path) == second.files[10].bytes)
    }
  }

  @Test("an index the prefix read holds whole is not read again: seek-point windows, slots and table come from it")
  func smallIndexReadOnce() async throws {
    // Random letters: deflate blocks of a few KB, so a seek point inside the first member has a window.
    var random = SplitMix64(seed: 3)
    let files: [(path: String, bytes: [UInt8])] = (0..<12).map { number in
      ("d/\(number).txt", (0..<12_000).map { _ in UInt8(ascii: "a") + UInt8(random.next() % 26) })
    }
    let tar = TarBytes.make(files)
    let gz = try gzipMember(tar[0..<100_000], level: 6) + gzipMember(tar[100_000...], level: 6)
    let built = try await GzipIndexBuilder.build(archive: MemorySource(gz), spacing: 64 << 10)
    let small = (gz: gz, index: built.bytes, files: files)
    #expect(small.index.count < 64 << 10)
    try await withRangeServer { server in
      server.put("a.tar.gz", small.gz)
      server.put("a.tar.gz.index", small.index)
      let cotar = try await Cotar.open(location: server.url("a.tar.gz"), resolver: SourceResolver.http())
      let gzip = try #require(cotar.data as? GzipTarSource)
      #expect(gzip.points.contains { $0.kind == .blockBoundary && $0.windowLength > 0 })
      for file in small.files { #expect(try await cotar.read(file.path) == file.bytes) }
      let indexReads = server.log.filter { $0.path == "/a.tar.gz.index" }
      #expect(indexReads.map(\.range) == ["bytes=0-65535"], "\(indexReads)")
    }
  }
}
