import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// Header and PAX times (SPEC §6): GNU tar's signed base-256 mtime, floored PAX fractions, a
/// malformed PAX mtime; and files that are not tars, named by their magic (`ForeignFormat`).
@Suite("Tar time fields and foreign formats", .timeLimit(.minutes(5)))
struct TarTimeFieldTests {
  /// Runs `script` with `/bin/sh` in a fresh scratch directory and returns that directory.
  static func made(_ script: String) async throws -> URL {
    let directory = try ScratchSpace.directory("tar-times")
    let result = try await ProcessRunner.runDetached("/bin/sh", ["-c", "set -e\n" + script], in: directory.path)
    try #require(result.status == 0, "\(result.stderr)")
    return directory
  }

  static func entries(_ path: String) async throws -> [TarEntry] {
    var entries: [TarEntry] = []
    _ = try await TarScanner(source: FileSource(path: path)).scan { entries.append($0) }
    return entries
  }

  @Test("GNU tar's base-256 mtime before 1970 is read as a negative time, as Python tarfile reads it")
  func negativeBase256() async throws {
    let directory = try await Self.made(
      """
      touch -d '1960-01-01 00:00:00Z' old; touch -d '1901-12-13 20:45:52Z' older
      tar -cf gnu.tar old older
      python3 -c "
      import tarfile
      for m in tarfile.open('gnu.tar'): print(m.name, int(m.mtime))
      " > expected
      od -A d -t x1 -j 136 -N 1 gnu.tar | head -1 > first
      """)
    defer { try? FileManager.default.removeItem(at: directory) }
    // The field really is base-256 (0xff first), not octal.
    #expect(try String(contentsOf: directory.appendingPathComponent("first"), encoding: .utf8).contains(" ff"))
    let expected = try String(contentsOf: directory.appendingPathComponent("expected"), encoding: .utf8)
    #expect(expected == "old -315619200\nolder -2147483648\n")
    let entries = try await Self.entries(directory.appendingPathComponent("gnu.tar").path)
    #expect(entries.map { "\($0.path) \($0.mtime)\n" }.joined() == expected)
  }

  @Test("a PAX mtime is floored to whole seconds; a malformed one is invalidTar at its record, naming the member")
  func paxTimes() async throws {
    let directory = try await Self.made(
      """
      python3 -c "
      import io, math, tarfile
      t = tarfile.open('pax.tar', 'w', format=tarfile.PAX_FORMAT)
      for name, mtime in [('a', '1234.5678'), ('b', '-12.5'), ('c', '-3'), ('d', '-0.000001')]:
          i = tarfile.TarInfo(name); i.size = 1; i.pax_headers = {'mtime': mtime}
          t.addfile(i, io.BytesIO(b'x'))
      t.close()
      for m in tarfile.open('pax.tar'): print(m.name, math.floor(m.mtime))
      t = tarfile.open('bad.tar', 'w', format=tarfile.PAX_FORMAT)
      i = tarfile.TarInfo('ok'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
      i = tarfile.TarInfo('bad'); i.size = 1; i.pax_headers = {'mtime': '12x'}
      t.addfile(i, io.BytesIO(b'x'))
      t.close()
      " > expected
      """)
    defer { try? FileManager.default.removeItem(at: directory) }
    let expected = try String(contentsOf: directory.appendingPathComponent("expected"), encoding: .utf8)
    #expect(expected == "a 1234\nb -13\nc -3\nd -1\n")
    let entries = try await Self.entries(directory.appendingPathComponent("pax.tar").path)
    #expect(entries.map { "\($0.path) \($0.mtime)\n" }.joined() == expected)

    let bad = directory.appendingPathComponent("bad.tar").path
    let error = await #expect(throws: CotarError.self) { _ = try await Self.entries(bad) }
    #expect(error?.code == .invalidTar)
    #expect(error?.path == "bad")
    // `ok` is one header and one data block; `bad`'s PAX header follows, its records at 1536.
    #expect(error?.offset == 1536)
    #expect(error?.message.contains("malformed PAX mtime record '12x'") == true, "\(String(describing: error))")
  }

  @Test("ZIP, cpio, 7-Zip and manifests are recognised at any size; a tar whose first name is 'PK\\u{3}\\u{4}' is still a tar")
  func foreignFormats() async throws {
    try #require(ProcessRunner.isAvailable("bsdtar"), "bsdtar is not installed (apt-get install libarchive-tools; .ci/run does)")
    let directory = try await Self.made(
      """
      echo hi > z.txt
      bsdtar --format=zip -cf a.zip z.txt
      bsdtar --format=odc -cf a.cpio z.txt
      bsdtar --format=newc -cf b.cpio z.txt
      bsdtar --format=7zip -cf a.7z z.txt
      printf '{\\n  "format": "cotar-shards",\\n  "version": 1\\n}\\n' > s.manifest.json
      cp z.txt "$(printf 'PK\\003\\004')" && tar -cf named.tar "$(printf 'PK\\003\\004')"
      """)
    defer { try? FileManager.default.removeItem(at: directory) }
    let expected: [(String, ForeignFormat)] = [
      ("a.zip", .archive("ZIP")), ("a.cpio", .archive("cpio")), ("b.cpio", .archive("cpio")), ("a.7z", .archive("7-Zip")),
      ("s.manifest.json", .shardManifest),
    ]
    for (name, format) in expected {
      let path = directory.appendingPathComponent(name).path
      let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
      #expect(bytes.count < 512, "\(name) is \(bytes.count) bytes")
      #expect(ForeignFormat.ofFile(startingWith: bytes) == format, "\(name)")
      let error = await #expect(throws: CotarError.self) { _ = try await Self.entries(path) }
      #expect(error?.code == .invalidTar && error?.offset == 0, "\(name): \(String(describing: error))")
      #expect(error?.message.contains("is not a tar") == true, "\(name): \(String(describing: error))")
    }
    let named = directory.appendingPathComponent("named.tar").path
    #expect(ForeignFormat.ofFile(startingWith: Array(try Data(contentsOf: URL(fileURLWithPath: named)).prefix(512))) == nil)
    #expect(try await Self.entries(named).map(\.pathBytes) == [[0x50, 0x4B, 3, 4]])
  }
}
