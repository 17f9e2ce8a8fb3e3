import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// The real size of an old GNU sparse header (`S`, `realsize` at byte 483) in both encodings,
/// and the fallback to the stored size when the field is malformed (SPEC §6).
@Suite("Tar scanner: real size of old GNU sparse members")
struct SparseRealSizeTests {
  /// A tar of one old GNU `S` member (GNU magic, 512 stored bytes) whose realsize field is
  /// `realsize`, then `after.txt`.
  static func sparseTar(realsize: [UInt8]) -> [UInt8] {
    var header = TestTar.header(Array("holes.bin".utf8), size: 512, typeflag: UInt8(ascii: "S"))
    header.replaceSubrange(257..<265, with: Array("ustar  \u{0}".utf8))
    header.replaceSubrange(483..<(483 + realsize.count), with: realsize)
    header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    let sum = Array(String(header.reduce(0) { $0 + Int($1) }, radix: 8).utf8)
    header.replaceSubrange(148..<(148 + 7), with: [UInt8](repeating: 0x30, count: 6 - sum.count) + sum + [0])
    var rest = TestTar()
    rest.add("after.txt", "after")
    return header + [UInt8](repeating: 0x61, count: 512) + rest.finished
  }

  @Test("realsize in octal, in base-256 (past 8 GiB), and a malformed one (stored size)")
  func realSize() async throws {
    let octal = Array("00004000001\u{0}".utf8)
    let base256: [UInt8] = [0x80] + [UInt8](repeating: 0, count: 6) + [0x02, 0x00, 0x00, 0x00, 0x05]  // 2^33 + 5
    let malformed = Array("zz".utf8)
    for (field, expected) in [(octal, UInt64(0o4000001)), (base256, (UInt64(1) << 33) + 5), (malformed, 512)] {
      var entries: [TarEntry] = []
      _ = try await TarScanner(source: MemorySource(Self.sparseTar(realsize: field))).scan { entries.append($0) }
      #expect(entries.map(\.path) == ["holes.bin", "after.txt"])
      #expect(entries.first?.kind == .sparse)
      #expect(entries.first?.size == expected)
      #expect(entries.last?.dataOffset == 1536)  // the walk follows the stored size
    }
  }
}
