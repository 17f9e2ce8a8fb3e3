import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// A local data read that fails (the tar truncated after the archive was opened) names the
/// entry and the byte offset, whatever API read it.
@Suite("Entry read errors name the entry", .timeLimit(.minutes(5)))
struct LocalEntryReadErrorTests {
  /// A tar and its index on disk, opened, then the tar cut to its first 1 KiB.
  private func truncatedArchive() async throws -> (Cotar, TestArchive, String) {
    let archive = try await TestArchive.make(count: 40)
    let tar = ScratchSpace.path("entry-read-error", suffix: ".tar")
    try Data(archive.tar).write(to: URL(fileURLWithPath: tar))
    let cotar = try await Cotar.open(
      tar: FileSource(path: tar), index: MemorySource(archive.index),
      options: Cotar.OpenOptions(mapLocalIndex: false))
    #expect(truncate(tar, 1024) == 0)
    return (cotar, archive, tar)
  }

  @Test func everyReadOfATruncatedLocalTarNamesTheEntryAndTheOffset() async throws {
    let (cotar, archive, tar) = try await truncatedArchive()
    defer { unlink(tar) }
    let file = archive.files[30]
    let entry = try #require(try await cotar.entry(file.path))
    func check(_ label: String, _ body: () async throws -> Void) async {
      do {
        try await body()
        Issue.record("\(label): no error")
      } catch let error as CotarError {
        #expect(error.code == .truncated, "\(label): \(error)")
        #expect(error.path == file.path, "\(label): \(error)")
        // Where the read of the entry started: its data, or (a sidecar layout, SPEC §8.5) the
        // tar header block read with it.
        #expect(error.offset == entry.offset || error.offset == entry.offset - 512, "\(label): \(error)")
        #expect(error.source == tar, "\(label): \(error)")
        #expect(error.description.contains("entry '\(file.path)', byte \(error.offset ?? 0): "), "\(label): \(error)")
      } catch {
        Issue.record("\(label): \(error)")
      }
    }
    await check("read") { _ = try await cotar.read(file.path) }
    await check("read(paths:)") { _ = try await cotar.read(paths: [archive.files[0].path, file.path]) }
    await check("chunks") { for try await _ in try #require(try await cotar.chunks(of: file.path)) {} }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: file.bytes.count, alignment: 8)
    defer { buffer.deallocate() }
    await check("read(into:)") { _ = try await cotar.read(file.path, into: buffer) }
    let descriptor = open("/dev/null", O_WRONLY)
    defer { close(descriptor) }
    await check("read(toFileDescriptor:)") { _ = try await cotar.read(file.path, toFileDescriptor: descriptor) }
  }
}
