import CotarCore
import CotarWriter
import CotarTestSupport
import Foundation
import Testing

@Suite("Atomic output files")
struct AtomicFileWriterTests {
  private func temporaryDirectory() throws -> URL {
    let url = try ScratchSpace.directory("cotar-writer")
    return url
  }

  @Test("a committed file appears whole; nothing else is left behind")
  func commit() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let destination = directory.appendingPathComponent("out.bin").path
    let writer = try AtomicFileWriter(destination: destination, overwrite: false)
    try writer.write([1, 2, 3])
    #expect(!FileManager.default.fileExists(atPath: destination))
    try writer.commit()
    #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data([1, 2, 3]))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bin"])
  }

  @Test("copy gives the bytes of the range, from a local file (chunk reused) and from memory", arguments: [false, true])
  func copyRange(fromFile: Bool) async throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var generator = SplitMix64(seed: 7)
    // Two and a half 1 MiB chunks: full chunks, then a shorter last one.
    let bytes = (0..<(5 << 19) + 123).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let input = directory.appendingPathComponent("in.bin").path
    try Data(bytes).write(to: URL(fileURLWithPath: input))
    let source: any RangeSource = fromFile ? try FileSource(path: input) : MemorySource(bytes)
    let range: Range<UInt64> = 1000..<UInt64(bytes.count - 10)
    let destination = directory.appendingPathComponent("out.bin").path
    let writer = try AtomicFileWriter(destination: destination, overwrite: false)
    try await writer.copy(from: source, range: range)
    try writer.commit()
    #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
  }

  @Test("an existing file is kept unless overwrite is asked for")
  func noClobber() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let destination = directory.appendingPathComponent("out.bin").path
    try Data([9]).write(to: URL(fileURLWithPath: destination))
    let error = #expect(throws: CotarError.self) { try AtomicFileWriter(destination: destination, overwrite: false) }
    #expect(error?.code == .outputExists)
    let writer = try AtomicFileWriter(destination: destination, overwrite: true)
    try writer.write([7, 7])
    try writer.commit()
    #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data([7, 7]))
  }

  @Test("a discarded or abandoned writer leaves no file")
  func discard() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let destination = directory.appendingPathComponent("out.bin").path
    do {
      let writer = try AtomicFileWriter(destination: destination, overwrite: false)
      try writer.write([1])
    }
    let writer = try AtomicFileWriter(destination: destination, overwrite: false)
    try writer.write([1])
    writer.discard()
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
  }
}

/// ``AtomicFileWriter/commit(removing:)``: the new file and the removal of its stale
/// companion happen together, or neither does.
@Suite("Atomic output files with a companion to remove")
struct AtomicFileWriterCompanionTests {
  @Test("a commit removes the companion and leaves nothing else; no companion, nothing removed")
  func removesCompanion() throws {
    let directory = try ScratchSpace.directory("cotar-writer")
    defer { try? FileManager.default.removeItem(at: directory) }
    let destination = directory.appendingPathComponent("d.tar.index").path
    let companion = directory.appendingPathComponent("d.tar.names").path
    try Data([1]).write(to: URL(fileURLWithPath: destination))
    try Data([2]).write(to: URL(fileURLWithPath: companion))
    let writer = try AtomicFileWriter(destination: destination, overwrite: true)
    try writer.write([3, 4])
    #expect(try writer.commit(removing: companion))
    #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == Data([3, 4]))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["d.tar.index"])
    let again = try AtomicFileWriter(destination: destination, overwrite: true)
    try again.write([5])
    #expect(try !again.commit(removing: companion))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["d.tar.index"])
  }

  @Test("a commit that fails puts the companion back and leaves the destination as it was")
  func failedCommitRestoresCompanion() throws {
    let directory = try ScratchSpace.directory("cotar-writer")
    defer { try? FileManager.default.removeItem(at: directory) }
    let destination = directory.appendingPathComponent("d.tar.index")
    let companion = directory.appendingPathComponent("d.tar.names").path
    try Data([2, 2]).write(to: URL(fileURLWithPath: companion))
    let writer = try AtomicFileWriter(destination: destination.path, overwrite: true)
    try writer.write([3])
    // A directory appears where the file should go: the commit refuses to replace it.
    try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
    try Data([7]).write(to: destination.appendingPathComponent("keep"))
    let error = #expect(throws: CotarError.self) { try writer.commit(removing: companion) }
    #expect(error?.code == .invalidArgument)
    #expect(try Data(contentsOf: URL(fileURLWithPath: companion)) == Data([2, 2]))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["d.tar.index", "d.tar.names"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path) == ["keep"])
  }
}
