import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// The seek-point windows of a remote `.tar.gz.index`: the first alone, later ones from the
/// window area read in blocks and kept (GzipTarSource's window cache).
@Suite("Gzip window reads", .timeLimit(.minutes(5)))
struct GzipWindowCacheTests {
  @Test("one read of a freshly opened remote archive fetches only its window; reading the whole tar fetches the window area once more, in one request")
  func windowsOnce() async throws {
    let (gz, tar) = try GzipSpanCacheTests.archive()
    let built = try await GzipIndexBuilder.build(archive: MemorySource(gz), spacing: 64 << 10)
    let header = try GzipIndexHeader(parsing: built.bytes, fileSize: UInt64(built.bytes.count))
    #expect(built.points.filter { $0.kind == .blockBoundary }.count > 10)
    #expect(header.windowsLength <= 1 << 20)
    /// A freshly opened archive whose index is remote-like, and the index's counter.
    func open() async throws -> (GzipTarSource, CountingSource) {
      let index = CountingSource(MeteredRemoteSource(built.bytes))
      let source = try await GzipArchiveIndex.open(archive: MemorySource(gz), index: index).tar
      index.reset()
      return (source, index)
    }
    // A read starting at a block boundary, past the first: one window, read alone.
    let (cold, coldIndex) = try await open()
    guard let point = built.points.dropFirst(3).first(where: { $0.kind == .blockBoundary }) else {
      Issue.record("no block-boundary point")
      return
    }
    let start = point.uncompressedOffset + 10
    #expect(try await cold.read(start..<(start + 1_000)) == Array(tar[Int(start)..<Int(start + 1_000)]))
    #expect(coldIndex.counts.reads == 1)
    #expect(coldIndex.counts.bytes == UInt64(point.windowLength))
    // The whole tar, 100 KB at a time: the first windows alone, then the area once.
    let (source, index) = try await open()
    var read: [UInt8] = []
    for offset in stride(from: 0, to: tar.count, by: 100_000) {
      read += try await source.read(UInt64(offset)..<UInt64(min(offset + 100_000, tar.count)))
    }
    #expect(read == tar)
    let alone = 4  // GzipWindowCache.windowsReadAlone
    #expect(index.counts.reads == alone + 1, "\(index.counts)")
    #expect(
      index.counts.bytes <= header.windowsLength + UInt64(alone * GzipIndexFormat.maximumCompressedWindow), "\(index.counts)")
  }
}
