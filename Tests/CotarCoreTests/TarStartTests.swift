import CotarCore
import CotarTestSupport
import Testing

/// The scanner's check of a first block that is no member header (E10): an ISO 9660 volume
/// descriptor is named, data after a leading end-of-archive marker is refused, an empty tar
/// (also followed by Cotar's own index or name table) is not.
@Suite("Tar start: zero first blocks")
struct TarStartTests {
  /// Scans `bytes` and returns the error, `nil` when the scan succeeds with no member.
  static func scanError(_ bytes: [UInt8]) async throws -> CotarError? {
    do {
      let summary = try await TarScanner(source: MemorySource(bytes, identity: "x.tar")).scan { _ in }
      #expect(summary.members == 0)
      return nil
    } catch let error as CotarError {
      return error
    }
  }

  @Test("CD001 at any standard descriptor position is an ISO 9660 image, at offset 0", arguments: [32769, 34817, 36865])
  func isoDescriptor(at position: Int) async throws {
    var bytes = [UInt8](repeating: 0, count: 40960)
    bytes.replaceSubrange(position..<(position + 5), with: Array("CD001".utf8))
    bytes[position - 1] = 1
    #expect(ForeignFormat.ofFile(startingWith: bytes) == .image("ISO 9660"))
    let error = try #require(try await Self.scanError(bytes))
    #expect(error.code == .invalidTar)
    #expect(error.offset == 0)
    #expect(error.message.contains("x.tar is not a tar: it looks like an ISO 9660 image"), "\(error)")
  }

  @Test("zeros then data within 64 KiB: invalidTar at the first non-zero byte; zeros only or data after 64 KiB: an empty tar")
  func dataAfterLeadingMarker() async throws {
    for position in [512, 1024, 5000, 65535] {
      var bytes = [UInt8](repeating: 0, count: 70000)
      bytes[position] = 7
      let error = try #require(try await Self.scanError(bytes), "\(position)")
      #expect(error.code == .invalidTar)
      #expect(error.offset == UInt64(position))
      #expect(error.message.contains("starts with an end-of-archive marker (a zero block) but holds data after it"), "\(error)")
    }
    var far = [UInt8](repeating: 0, count: 70000)
    far[65536] = 7
    #expect(try await Self.scanError(far) == nil)
    #expect(try await Self.scanError([UInt8](repeating: 0, count: 10240)) == nil)
    // A real member, then bytes after its end marker: accepted, as GNU tar does.
    var tar = TestTar()
    tar.add("a.txt", "hello")
    let summary = try await TarScanner(source: MemorySource(tar.finished + [1, 2, 3])).scan { _ in }
    #expect(summary.members == 1)
  }

  @Test("an empty tar followed by a name table trailer or a v2 index (a .tar.co) is an empty tar")
  func cotarMetadataAfterEmptyTar() async throws {
    let table = [UInt8](repeating: 9, count: 100) + NameTableFormat.magic + [UInt8](repeating: 1, count: 36)
    #expect(try await Self.scanError([UInt8](repeating: 0, count: 1024) + table) == nil)
    // A v2 index of 0 slots: header and footer `COT` 0x02 and a slot count of 0.
    let index: [UInt8] = [0x43, 0x4F, 0x54, 0x02, 0, 0, 0, 0, 0x43, 0x4F, 0x54, 0x02, 0, 0, 0, 0]
    #expect(try await Self.scanError([UInt8](repeating: 0, count: 1024) + table + index) == nil)
    let error = try #require(try await Self.scanError([UInt8](repeating: 0, count: 1024) + table + [1]))
    #expect(error.offset == 1024)
  }
}
