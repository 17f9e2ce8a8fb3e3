import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `CotarIndexBuilder.build(tar:)` parses members of the common shape in place (no entry or
/// path array per member). These tests pin it to the general path: `TarScanner.scan` feeding
/// `CotarIndexBuilder.add(_:)`, which is what the builder did for every member before.
@Suite("Index build: in-place scan path")
struct InPlaceScanTests {
  /// What a build gave: the index and scan summary, or the error's code and offset.
  enum Outcome: Equatable {
    case built(bytes: [UInt8], stats: IndexBuildStats, scan: TarScanSummary)
    case failed(CotarError.Code, UInt64?)
  }

  static func outcome(_ body: () async throws -> (BuiltIndex, TarScanSummary)) async -> Outcome {
    do {
      let (index, scan) = try await body()
      return .built(bytes: index.bytes, stats: index.stats, scan: scan)
    } catch let error as CotarError {
      return .failed(error.code, error.offset)
    } catch {
      return .failed(.io, nil)
    }
  }

  /// The build through `CotarIndexBuilder.build(tar:)` (in-place path where it applies).
  static func inPlace(_ source: any RangeSource, readAhead: Int = 1 << 20) async -> Outcome {
    var scanOptions = TarScanner.Options()
    scanOptions.readAheadBytes = readAhead
    return await outcome {
      let result = try await CotarIndexBuilder.build(tar: source, scanOptions: scanOptions)
      return (result.index, result.scan)
    }
  }

  /// The reference: every member through `TarScanner.scan` and `add(_:)`.
  static func general(_ source: any RangeSource, readAhead: Int = 1 << 20) async -> Outcome {
    var scanOptions = TarScanner.Options()
    scanOptions.readAheadBytes = readAhead
    return await outcome {
      var builder = try CotarIndexBuilder()
      var scan = try await TarScanner(source: source, options: scanOptions).scan { try builder.add($0) }
      if builder.hardLinksToSymlinks > 0 {
        scan.skipped[TarEntry.Kind.symbolicLink.description, default: 0] += builder.hardLinksToSymlinks
      }
      let index = try await builder.build { offset in
        try await TarScanner(source: source).entry(atHeaderOffset: offset).pathBytes
      }
      return (index, scan)
    }
  }

  @Test("gives what the general path gives on every fixture, valid or broken", arguments: FixtureManifest.shared.fixtures)
  func fixtures(fixture: FixtureManifest.Fixture) async throws {
    let path = fixturePath(fixture.name)
    let fast = await Self.inPlace(try FileSource(path: path))
    #expect(fast == (await Self.general(try FileSource(path: path))))
    // A small read-ahead: headers at buffer edges, refills of the reused buffer.
    #expect((await Self.inPlace(try FileSource(path: path), readAhead: 1536)) == fast)
  }

  /// Files, directories, symbolic links, hard links (general path), repeated paths and a
  /// ustar prefix, in a file, read with several read-ahead sizes.
  static func mixedTar() -> [UInt8] {
    var tar = TestTar()
    var random = SplitMix64(seed: 15)
    for index in 0..<300 {
      let size = Int(random.next() % 3000)
      let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      switch index % 10 {
      case 3: tar.add(Array("dir\(index)/".utf8), typeflag: UInt8(ascii: "5"))
      case 5: tar.add(Array("link\(index)".utf8), typeflag: UInt8(ascii: "2"), link: Array("f\(index - 1)".utf8))
      case 7: tar.add(Array("hard\(index)".utf8), typeflag: UInt8(ascii: "1"), link: Array("f\(index - 1)".utf8))
      case 9: tar.add(Array("f\(index - 3)".utf8), data: data)  // a repeated path: the last wins
      default: tar.add(Array("f\(index)".utf8), data: data)
      }
    }
    var bytes = tar.finished
    // Give the first member a POSIX ustar prefix ("pre/fix" + "/" + name), checksum redone.
    let prefix = Array("pre/fix".utf8)
    bytes.replaceSubrange(345..<(345 + prefix.count), with: prefix)
    bytes.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    let sum = bytes[0..<512].reduce(0) { $0 + Int($1) }
    let digits = Array(String(sum, radix: 8).utf8)
    bytes.replaceSubrange(148..<(148 + 7), with: [UInt8](repeating: UInt8(ascii: "0"), count: 7 - digits.count) + digits)
    bytes[155] = 0
    return bytes
  }

  static func write(_ bytes: [UInt8]) throws -> String {
    let path = ScratchSpace.path("inplace", suffix: ".tar")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test("a mixed tar with a ustar prefix, links and repeated paths: same index, summary and path lookups")
  func mixed() async throws {
    let bytes = Self.mixedTar()
    let path = try Self.write(bytes)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let reference = await Self.general(try FileSource(path: path))
    guard case .built(_, let stats, let scan) = reference else {
      Issue.record("the reference build failed: \(reference)")
      return
    }
    #expect(stats.duplicatesDropped == 30)
    #expect(scan.skipped["directory"] == 30 && scan.skipped["symlink"] == 30)
    for readAhead in [512, 1536, 4096, 1 << 20] {
      #expect((await Self.inPlace(try FileSource(path: path), readAhead: readAhead)) == reference)
      #expect((await Self.inPlace(MemorySource(bytes), readAhead: readAhead)) == reference)
    }
    let archive = try await Cotar.open(
      tar: FileSource(path: path), index: MemorySource(try await CotarIndexBuilder.build(tar: FileSource(path: path)).index.bytes))
    #expect(try await archive.read("pre/fix/f0") != nil)
    #expect(try await archive.read("f0") == nil)
  }

  @Test("a bad checksum or cut data mid-archive fails with the general path's code and offset")
  func broken() async throws {
    let bytes = Self.mixedTar()
    var corrupt = bytes
    corrupt[512 * 40 + 10] ^= 0x01  // somewhere in the middle: a header or data
    let badHeader = try #require(stride(from: 0, to: bytes.count, by: 512).first { offset in
      offset > 100_000 && bytes[offset + 257] == UInt8(ascii: "u")
    })
    var badChecksum = bytes
    badChecksum[badHeader + 3] ^= 0x01
    let cut = Array(bytes[0..<(badHeader + 512 + 100)])
    for variant in [corrupt, badChecksum, cut] {
      let path = try Self.write(variant)
      defer { try? FileManager.default.removeItem(atPath: path) }
      let reference = await Self.general(try FileSource(path: path))
      #expect((await Self.inPlace(try FileSource(path: path))) == reference)
      #expect((await Self.inPlace(try FileSource(path: path), readAhead: 1536)) == reference)
    }
    let checksumPath = try Self.write(badChecksum)
    defer { try? FileManager.default.removeItem(atPath: checksumPath) }
    #expect((await Self.inPlace(try FileSource(path: checksumPath))) == .failed(.invalidTar, UInt64(badHeader)))
  }
}
