import CotarCore
import Foundation
import Testing

@Suite("FNV-1a 64 and the header format")
struct FormatTests {
  @Test("FNV-1a 64 known vectors", arguments: [
    ("", 0xcbf2_9ce4_8422_2325 as UInt64),
    ("a", 0xaf63_dc4c_8601_ec8c),
    ("foobar", 0x8594_4171_f739_67e8),
    ("tiles/0/0/0.pbf.gz", 0xa7b4_88b4_5b07_6326),
    ("tiles/1/1/1.pbf.gz", 0x372a_5360_2296_23bf),
    ("tiles/1/1/2.pbf.gz", 0x7d96_6d3f_83f9_c074),
  ])
  func fnvVectors(path: String, hash: UInt64) {
    #expect(PathHash.fnv1a64(path) == hash)
    #expect(PathHash.fnv1a64(bytes: Array(path.utf8)) == hash)
  }

  @Test("header round trip and linz v2 vector for 1234567890 slots")
  func headerRoundTrip() throws {
    let header = CotarIndexHeader(slotCount: 1_234_567_890)
    let bytes = header.serialized()
    #expect(bytes == [0x43, 0x4F, 0x54, 0x02, 0xD2, 0x02, 0x96, 0x49])
    #expect(try CotarIndexHeader(parsing: bytes) == header)
    #expect(header.indexSize == 1_234_567_890 * 16 + 16)
  }

  @Test("bad magic, other versions and short input are rejected")
  func headerRejects() {
    #expect(throws: CotarError.self) { try CotarIndexHeader(parsing: Array("TAR\u{2}\0\0\0\0".utf8)) }
    for version: UInt8 in [1, 3] {
      let error = #expect(throws: CotarError.self) { try CotarIndexHeader(parsing: [0x43, 0x4F, 0x54, version, 1, 0, 0, 0]) }
      #expect(error?.code == .unsupportedVersion)
    }
    let short = #expect(throws: CotarError.self) { try CotarIndexHeader(parsing: [0x43, 0x4F, 0x54, 2, 0, 0, 0]) }
    #expect(short?.code == .truncated)
    let magic = #expect(throws: CotarError.self) { try CotarIndexHeader(parsing: Array("TAR\u{2}\0\0\0\0".utf8)) }
    #expect(magic?.code == .invalidMagic)
  }

  @Test("records decode little-endian and locate data in 512-byte blocks")
  func recordDecoding() throws {
    var bytes = [UInt8](repeating: 0, count: 16)
    bytes[0] = 0x26; bytes[7] = 0xA7; bytes[8] = 3; bytes[12] = 0x10
    let record = try #require(CotarIndexRecord(bytes: bytes, at: 0))
    #expect(record.hash == 0xA700_0000_0000_0026)
    #expect(record.entry == CotarEntry(offset: 1536, size: 16))
    #expect(CotarIndexRecord(bytes: bytes, at: 1) == nil)
  }
}
