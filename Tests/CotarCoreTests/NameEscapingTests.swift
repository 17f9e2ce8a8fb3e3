@testable import CotarCore
import Testing

@Suite("Name escaping (GNU tar escape style)")
struct NameEscapingTests {
  @Test("controls, DEL and backslash are escaped as GNU tar does; other bytes pass through")
  func escapes() {
    #expect(String(decoding: escapedName(Array("a\nb\tc\u{1B}d\u{7F}e\\f\u{01}é".utf8)), as: UTF8.self) == "a\\nb\\tc\\033d\\177e\\\\f\\001é")
  }

  @Test("unescapedName reverses escapedName for every byte; a stray backslash is kept")
  func roundTrip() {
    let all = (0...255).map { UInt8($0) }
    #expect(unescapedName(escapedName(all)) == all)
    #expect(unescapedName(Array("a\\qb\\".utf8)) == Array("a\\qb\\".utf8))
    #expect(unescapedName(Array("\\0\\1234".utf8)) == [0, 0o123, 0x34])
  }
}
