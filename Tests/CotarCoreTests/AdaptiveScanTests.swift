import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// The adaptive read-ahead of `TarScanner` (used for remote tars): hop over large members
/// with small reads, stream small members with growing reads.
@Suite struct AdaptiveScanTests {
  /// A ustar header for a regular file of `size` bytes (the data is not materialised).
  static func header(_ name: String, size: UInt64) -> [UInt8] {
    var tar = TestTar()
    tar.add(name, "")
    var header = Array(tar.bytes.prefix(512))
    let digits = Array(String(size, radix: 8).utf8)
    let field = [UInt8](repeating: UInt8(ascii: "0"), count: 11 - digits.count) + digits + [0]
    header.replaceSubrange(124..<136, with: field)
    header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    let sum = header.reduce(0) { $0 + Int($1) }
    let sumDigits = Array(String(sum, radix: 8).utf8)
    header.replaceSubrange(148..<156, with: [UInt8](repeating: UInt8(ascii: "0"), count: 6 - sumDigits.count) + sumDigits + [0, 0x20])
    return header
  }

  @Test func largeMembersAreHoppedWithUnderOnePercentTransferred() async throws {
    // 64 members of 16 MiB (a 1 GiB sparse file: only the headers are written).
    let path = ScratchSpace.path("cotar-adaptive", suffix: ".tar")
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let handle = try #require(FileHandle(forWritingAtPath: path))
    let member: UInt64 = 16 << 20
    var offset: UInt64 = 0
    for index in 0..<64 {
      try handle.seek(toOffset: offset)
      try handle.write(contentsOf: Self.header("big/\(index).bin", size: member))
      offset += 512 + member
    }
    try handle.truncate(atOffset: offset + 1024)
    try handle.close()

    let source = CountingSource(try FileSource(path: path))
    var options = TarScanner.Options()
    options.adaptiveMinimumReadAheadBytes = 4096
    var names: [String] = []
    for try await entry in TarScanner(source: source, options: options).entries() { names.append(entry.path) }
    #expect(names.count == 64)
    let total = offset + 1024
    #expect(source.counts.bytes * 100 < total, "read \(source.counts.bytes) of \(total) bytes")
    #expect(source.counts.reads <= 66)

    // Without adaptation each header read fetches the full 1 MiB read-ahead.
    let fixed = CountingSource(try FileSource(path: path))
    for try await _ in TarScanner(source: fixed).entries() {}
    #expect(fixed.counts.bytes > source.counts.bytes * 100)
  }

  @Test func smallMembersAreStreamedWithGrowingReads() async throws {
    var tar = TestTar()
    for index in 0..<3000 { tar.add("small/\(index).txt", String(repeating: "x", count: index % 700)) }
    let bytes = tar.finished
    let source = CountingSource(MemorySource(bytes))
    var options = TarScanner.Options()
    options.adaptiveMinimumReadAheadBytes = 4096
    var count = 0
    for try await _ in TarScanner(source: source, options: options).entries() { count += 1 }
    #expect(count == 3000)
    // 4 KiB, 8 KiB, … up to 1 MiB: a handful of reads for ~1.4 MB, not one per member.
    #expect(source.counts.reads < 12, "\(source.counts.reads) reads")
    #expect(source.counts.bytes <= UInt64(bytes.count))
  }
}
