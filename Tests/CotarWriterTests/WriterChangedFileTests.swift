import CotarCore
import CotarWriter
import Foundation
import Testing

/// A ``TarOutput`` that keeps the bytes and, on its `trigger`-th write, runs `change` (which
/// alters the file being copied, as another process would while `cotar tar` reads it).
private final class ChangingOutput: TarOutput {
  private(set) var bytes: [UInt8] = []
  private var writes = 0
  private let trigger: Int
  private let change: () throws -> Void

  init(trigger: Int, change: @escaping () throws -> Void) {
    self.trigger = trigger
    self.change = change
  }

  var bytesWritten: UInt64 { UInt64(bytes.count) }

  func write(_ bytes: [UInt8]) throws {
    self.bytes += bytes
    writes += 1
    if writes == trigger { try change() }
  }
}

/// SPEC §9.1: a file that changes while it is copied into a tar is an error, whether it
/// shrinks, grows or is rewritten in place; the member never silently holds a prefix of the
/// file or a mix of two versions.
@Suite("Writer: a file that changes during the copy")
struct WriterChangedFileTests {
  /// Writes the 4096-byte file `path` as one member in 1 KiB chunks; `change` runs after the
  /// first chunk (write 1 is the header, write 2 the first chunk).
  func copy(_ path: String, change: @escaping () throws -> Void) throws {
    let output = ChangingOutput(trigger: 2, change: change)
    let writer = TarWriter(output: output)
    writer.chunkSize = 1024
    let member = TarMember(pathBytes: Array("big.bin".utf8), kind: .file, size: 4096, mode: 0o644)
    try writer.write(member, data: .file(Array(path.utf8)))
  }

  @Test func aFileThatGrowsDuringTheCopyIsAnError() throws {
    let dir = try WriterTempDir()
    try dir.write("big.bin", [UInt8](repeating: 7, count: 4096))
    let path = dir.at("big.bin")
    let error = try #require(throws: CotarError.self) {
      try copy(path) {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 9, count: 1000))
      }
    }
    #expect(error.code == .io)
    #expect(error.message.contains("file grew while being archived (4096 bytes expected, 5096 found)"), "\(error)")
    #expect(error.path == "big.bin")
  }

  @Test func aFileThatShrinksDuringTheCopyIsAnError() throws {
    let dir = try WriterTempDir()
    try dir.write("big.bin", [UInt8](repeating: 7, count: 4096))
    let path = dir.at("big.bin")
    let error = try #require(throws: CotarError.self) {
      try copy(path) { #expect(truncate(path, 2000) == 0) }
    }
    #expect(error.code == .io)
    #expect(error.message.contains("file shrank while being archived"), "\(error)")
  }

  /// Rewritten in place at the same size (as an editor or a download would) after the first
  /// chunk: the member would hold old bytes then new ones. The modification time is set
  /// explicitly, so the test does not depend on the file system's timestamp granularity.
  @Test func aFileRewrittenInPlaceDuringTheCopyIsAnError() throws {
    let dir = try WriterTempDir()
    try dir.write("big.bin", [UInt8](repeating: 7, count: 4096))
    let path = dir.at("big.bin")
    let error = try #require(throws: CotarError.self) {
      try copy(path) {
        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let written = [UInt8](repeating: 9, count: 1024).withUnsafeBytes { pwrite(fd, $0.baseAddress, 1024, 2048) }
        #expect(written == 1024)
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        #expect(futimens(fd, &times) == 0)
      }
    }
    #expect(error.code == .io)
    #expect(error.message.contains("file changed while being archived (its modification time"), "\(error)")
    #expect(error.message.hasSuffix("archive it again"), "\(error)")
    #expect(error.path == "big.bin")
  }

  @Test func aFileOfUnchangedSizeIsCopiedWhole() throws {
    let dir = try WriterTempDir()
    try dir.write("big.bin", [UInt8](repeating: 7, count: 4096))
    let output = ChangingOutput(trigger: 0) {}
    let writer = TarWriter(output: output)
    writer.chunkSize = 1024
    let entry = try writer.write(
      TarMember(pathBytes: Array("big.bin".utf8), kind: .file, size: 4096, mode: 0o644), data: .file(Array(dir.at("big.bin").utf8)))
    #expect(entry.size == 4096)
    #expect(Array(output.bytes[512..<4608]) == [UInt8](repeating: 7, count: 4096))
  }
}
