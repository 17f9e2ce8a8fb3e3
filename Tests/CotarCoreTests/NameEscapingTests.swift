@testable import CotarCore
import Testing

@Suite("Name escaping (GNU tar escape style)")
struct NameEscapingTests {
  @Test("controls, DEL and backslash are escaped as GNU tar does; other bytes pass through")
  func escapes() {
    #expect(String(decoding: escapedName(Array("a\nb\tc\u{1B}d\u{7F}e\\f\u{01}é".utf8)), as: UTF8.self) == "a\\nb\\tc\\033d\\177e\\\\f\\001é")
  }

  @Test(
    "non-printable characters and bytes that are not UTF-8 are escaped byte by byte, as GNU tar does in a UTF-8 locale",
    arguments: [
      ([0x63, 0xC2, 0x9B, 0x33, 0x31, 0x6D], "c\\302\\23331m"),  // C1 CSI (U+009B)
      ([0x62, 0xFF, 0x6E], "b\\377n"),  // not UTF-8
      ([0xC0, 0xAF], "\\300\\257"),  // overlong '/'
      ([0xED, 0xA0, 0x80], "\\355\\240\\200"),  // a surrogate
      ([0xE2, 0x80, 0xA8], "\\342\\200\\250"),  // line separator
      ([0xEF, 0xBF, 0xBF], "\\357\\277\\277"),  // noncharacter U+FFFF
      ([0xCD, 0xB8], "\\315\\270"),  // unassigned U+0378
      ([0xE2, 0x80, 0x8B, 0xC3, 0xA9, 0xEE, 0x80, 0x80, 0xF0, 0x9F, 0x97, 0xBA], "\u{200B}é\u{E000}🗺"),  // printable
      ([0xE2, 0x80], "\\342\\200"),  // cut short
    ] as [([UInt8], String)])
  func nonPrintableUnicode(bytes: [UInt8], shown: String) {
    #expect(String(decoding: escapedName(bytes), as: UTF8.self) == shown)
    #expect(unescapedName(escapedName(bytes)) == bytes)
  }

  @Test("unescapedName reverses escapedName for every byte; a stray backslash is kept")
  func roundTrip() {
    let all = (0...255).map { UInt8($0) }
    #expect(unescapedName(escapedName(all)) == all)
    #expect(unescapedName(Array("a\\qb\\".utf8)) == Array("a\\qb\\".utf8))
    #expect(unescapedName(Array("\\0\\1234".utf8)) == [0, 0o123, 0x34])
  }
}
