import CotarTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Modes and times as `tar -tv` shows them and `tar -x` applies them, on archives written by
/// GNU tar, bsdtar and Python `tarfile` (README "extract", SPEC §6).
@Suite("CLI modes and times", .timeLimit(.minutes(5)))
struct ModesTimesCLITests {
  /// A tree with set-ID, sticky and plain modes (with and without the execute bit under the
  /// special bit), archived by GNU tar as `modes.tar` (members `sticky/`, `suid`…).
  static func modesWorkspace() async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let script = """
      set -e
      mkdir -p tree/sticky tree/stickynox tree/sgiddir
      touch tree/suid tree/suidnox tree/sgid tree/sgidnox tree/plain tree/sticky/x
      chmod 4755 tree/suid; chmod 4644 tree/suidnox; chmod 2755 tree/sgid; chmod 2644 tree/sgidnox
      chmod 0640 tree/plain; chmod 1777 tree/sticky; chmod 1776 tree/stickynox; chmod 2755 tree/sgiddir
      cd tree && tar -cf ../modes.tar sticky stickynox sgiddir suid suidnox sgid sgidnox plain
      """
    let made = try await CLI.shell(script, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    return directory
  }

  /// `path -> first column` of `tar -tvf` (GNU tar), e.g. `suid -> -rwsr-xr-x`.
  static func gnuModes(_ tar: String, in directory: URL) async throws -> [String: String] {
    let listed = try await CLI.shell("tar -tvf '\(tar)'", in: directory)
    #expect(listed.status == 0, "\(listed.stderr)")
    var modes: [String: String] = [:]
    for line in listed.stdoutText.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard let mode = fields.first, let path = fields.last else { continue }
      modes[String(path)] = String(mode)
    }
    return modes
  }

  @Test("ls --long and stat show setuid, setgid and sticky bits as s/S/t/T, exactly as tar -tvf does")
  func specialBitsAsTarShowsThem() async throws {
    let directory = try await Self.modesWorkspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let expected = try await Self.gnuModes("modes.tar", in: directory)
    #expect(expected["suid"] == "-rwsr-xr-x" && expected["sticky/"] == "drwxrwxrwt", "\(expected)")
    for archive in ["modes.tar", "modes.tar.co"] {
      if archive.hasSuffix(".co") {
        #expect(try await CLI.run(["create", "modes.tar", "-o", archive], in: directory).status == 0)
      }
      let listed = try await CLI.run(["ls", "--long", "--recursive", archive], in: directory)
      #expect(listed.status == 0, "\(listed.stderr)")
      var shown: [String: String] = [:]
      for line in listed.stdoutText.split(separator: "\n") {
        let fields = line.split(separator: "\t")
        shown[String(fields[3])] = String(fields[0])
      }
      #expect(shown == expected, "\(archive): cotar \(shown) vs tar -tvf \(expected)")
      for (path, mode) in expected {
        let stat = try await CLI.run(["stat", archive, path], in: directory)
        #expect(stat.stdoutText.contains("mode: \(mode) ("), "\(path): \(stat.stdoutText) \(stat.stderr)")
      }
    }
  }

  @Test("extract keeps the sticky bit of a 1777 directory and drops set-user-ID and set-group-ID bits")
  func extractAppliesStickyNotSetID() async throws {
    let directory = try await Self.modesWorkspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let extracted = try await CLI.run(["extract", "modes.tar", "-o", "out"], in: directory)
    #expect(extracted.status == 0, "\(extracted.stderr)")
    func mode(_ name: String) -> mode_t {
      var info = stat()
      #expect(lstat(directory.appendingPathComponent("out/\(name)").path, &info) == 0, "\(name)")
      return info.st_mode & 0o7777
    }
    #expect(mode("sticky") == 0o1777)
    #expect(mode("stickynox") == 0o1776)
    #expect(mode("sgiddir") == 0o755)
    #expect(mode("suid") == 0o755)
    #expect(mode("suidnox") == 0o644)
    #expect(mode("sgid") == 0o755)
    #expect(mode("sgidnox") == 0o644)
    #expect(mode("plain") == 0o640)
  }

  @Test("a directory implied by member paths is listed drwxr-xr-x with the newest mtime below it, and stat finds it")
  func impliedDirectory() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      set -e
      mkdir -p d/e
      echo one > d/f; echo two > d/e/g
      touch -d '2001-02-03 04:05:06Z' d/f; touch -d '2011-02-03 04:05:06Z' d/e/g
      tar -cf implied.tar d/f d/e/g
      python3 -c "import tarfile; print(max(m.mtime for m in tarfile.open('implied.tar')))" > newest
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    let newest = try String(contentsOf: directory.appendingPathComponent("newest"), encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(newest == "1296705906")
    let listed = try await CLI.run(["ls", "--long", "implied.tar"], in: directory)
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdoutText == "drwxr-xr-x\t8\t\(newest)\td/\n", "\(listed.stdoutText)")
    let json = try await CLI.run(["ls", "--json", "implied.tar"], in: directory)
    #expect(json.stdoutText.contains("\"mode\":493,\"mtime\":\(newest),\"implied\":true"), "\(json.stdoutText)")
    for path in ["d", "d/"] {
      let stat = try await CLI.run(["stat", "implied.tar", path], in: directory)
      #expect(stat.status == 0, "\(path): \(stat.stderr)")
      #expect(stat.stdoutText.contains("path: d/\nkind: directory\n"), "\(stat.stdoutText)")
      #expect(stat.stdoutText.contains("mode: drwxr-xr-x (0755)\nmtime: \(newest)\nimplied: yes"), "\(stat.stdoutText)")
    }
  }

  @Test("a time before 1970 (GNU tar's signed base-256, bsdtar's PAX) is listed and extracted as Python tarfile reads it")
  func preEpochTimes() async throws {
    try #require(ProcessRunner.isAvailable("bsdtar"), "bsdtar is not installed (apt-get install libarchive-tools; .ci/run does)")
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      set -e
      echo old > old
      touch -d '1960-01-01 00:00:00Z' old
      tar -cf gnu.tar old
      bsdtar -cf bsd.tar old
      python3 -c "import tarfile; print(int(tarfile.open('gnu.tar').getmember('old').mtime))" > expected
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    let expected = try String(contentsOf: directory.appendingPathComponent("expected"), encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(expected == "-315619200")
    for archive in ["gnu.tar", "bsd.tar"] {
      let listed = try await CLI.run(["ls", "--long", archive], in: directory)
      #expect(listed.stdoutText == "-rw-r--r--\t4\t\(expected)\told\n", "\(archive): \(listed.stdoutText) \(listed.stderr)")
      let shown = try await CLI.run(["stat", archive, "old"], in: directory)
      #expect(shown.stdoutText.contains("mtime: \(expected)\n"), "\(archive): \(shown.stdoutText)")
      let out = "out-\(archive)"
      let extracted = try await CLI.run(["extract", archive, "-o", out], in: directory)
      #expect(extracted.status == 0, "\(extracted.stderr)")
      let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("\(out)/old").path)
      let seconds = (attributes[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970.rounded(.down)) }
      #expect(seconds.map(String.init) == expected, "\(archive): extracted mtime \(String(describing: seconds))")
    }
  }

  @Test("a fractional PAX mtime is floored to whole seconds, as GNU tar and Python tarfile read it")
  func fractionalPaxTimes() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      python3 -c "
      import io, math, tarfile
      t = tarfile.open('pax.tar', 'w', format=tarfile.PAX_FORMAT)
      for name, mtime in [('a', '1234.5678'), ('b', '-12.5'), ('c', '-12'), ('d', '-0.25'), ('e', '7.')]:
          i = tarfile.TarInfo(name); i.size = 1; i.pax_headers = {'mtime': mtime}
          t.addfile(i, io.BytesIO(b'x'))
      t.close()
      for m in tarfile.open('pax.tar'): print(m.name, math.floor(m.mtime))
      " > expected
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    let expected = try String(contentsOf: directory.appendingPathComponent("expected"), encoding: .utf8)
    #expect(expected == "a 1234\nb -13\nc -12\nd -1\ne 7\n")
    let listed = try await CLI.run(["ls", "--long", "pax.tar"], in: directory)
    #expect(listed.status == 0, "\(listed.stderr)")
    let shown = listed.stdoutText.split(separator: "\n").map { line in
      let fields = line.split(separator: "\t")
      return "\(fields[3]) \(fields[2])\n"
    }.joined()
    #expect(shown == expected)
  }

  @Test("a malformed PAX mtime is an invalidTar error naming the member and the record's offset")
  func malformedPaxTime() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      python3 -c "
      import io, tarfile
      t = tarfile.open('bad.tar', 'w', format=tarfile.PAX_FORMAT)
      i = tarfile.TarInfo('bad'); i.size = 1; i.pax_headers = {'mtime': 'abc'}
      t.addfile(i, io.BytesIO(b'x'))
      t.close()
      "
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    // GNU tar rejects it too ("Malformed extended header: invalid mtime=abc", exit 2).
    let gnu = try await CLI.shell("tar -tf bad.tar", in: directory)
    #expect(gnu.status != 0 && gnu.stderr.contains("invalid mtime=abc"), "\(gnu.stderr)")
    for command in [["ls", "bad.tar"], ["index", "bad.tar"], ["stat", "bad.tar", "bad"]] {
      let result = try await CLI.run(command, in: directory)
      #expect(result.status == 1, "\(command): \(result.stderr)")
      #expect(
        result.stderr.contains("bad.tar, entry 'bad', byte 512: malformed PAX mtime record 'abc'"),
        "\(command): \(result.stderr)")
    }
  }
}
