import CotarTestSupport
import Foundation
import Testing

/// Member names with control characters: escaped in human-readable output as GNU tar does
/// (`new\nline`, `\033`, `\\`), decoded again by `get --paths-from`, and exact with `--null`.
@Suite("CLI control characters in names", .timeLimit(.minutes(5)))
struct ControlCharacterCLITests {
  /// The stored names (Python tarfile, PAX) and their bytes.
  static let members: [(name: String, data: String)] = [
    ("new\nline.txt", "NL"), ("esc\u{1B}[31mred.txt", "ESC"), ("back\\slash.txt", "BS"), ("plain.txt", "P"),
    ("del\u{7F}.txt", "DEL"), ("tab\there.txt", "TAB"),
  ]

  /// `x.tar` written by Python's tarfile with ``members``, and `x.tar.co` made from it.
  static func workspace() async throws -> URL {
    let directory = try CLI.temporaryDirectory()
    let entries = members.map { "(\(pythonLiteral($0.name)), \(pythonLiteral($0.data)))" }.joined(separator: ", ")
    let script = """
      import io, tarfile
      with tarfile.open('x.tar', 'w', format=tarfile.PAX_FORMAT) as t:
          for name, data in [\(entries)]:
              info = tarfile.TarInfo(name); info.size = len(data.encode()); t.addfile(info, io.BytesIO(data.encode()))
      """
    let made = try await ProcessRunner.runDetached("python3", ["-c", script], in: directory.path)
    #expect(made.status == 0, "\(made.stderr)")
    let created = try await CLI.run(["create", "x.tar"], in: directory)
    #expect(created.status == 0, "\(created.stderr)")
    return directory
  }

  /// A Python string literal of `text` with every non-printable byte as `\xNN`.
  static func pythonLiteral(_ text: String) -> String {
    "'" + text.unicodeScalars.map { scalar in
      scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\\" || scalar == "'"
        ? String(format: "\\x%02x", scalar.value) : String(scalar)
    }.joined() + "'"
  }

  @Test("ls (table and --tar-order), ls --long and stat escape names exactly as GNU tar -t does; no raw control byte")
  func escapedLikeGnuTar() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let gnu = try await ProcessRunner.runDetached("tar", ["-tf", "x.tar"], in: directory.path)
    #expect(gnu.status == 0, "\(gnu.stderr)")
    #expect(gnu.stdoutText.contains("new\\nline.txt\n") && gnu.stdoutText.contains("esc\\033[31mred.txt\n"))
    let tarOrder = try await CLI.run(["ls", "x.tar.co", "--tar-order"], in: directory)
    #expect(tarOrder.stdout == gnu.stdout, "\(tarOrder.stdoutText)")
    let table = try await CLI.run(["ls", "x.tar.co", "-r", "--files"], in: directory)
    #expect(table.stdoutText.split(separator: "\n").sorted() == gnu.stdoutText.split(separator: "\n").sorted())
    let long = try await CLI.run(["ls", "x.tar.co", "--long"], in: directory)
    #expect(long.stdoutText.contains("\tnew\\nline.txt\n"), "\(long.stdoutText)")
    let stat = try await CLI.run(["stat", "x.tar.co", "esc\u{1B}[31mred.txt"], in: directory)
    #expect(stat.status == 0, "\(stat.stderr)")
    #expect(stat.stdoutText.hasPrefix("path: esc\\033[31mred.txt\n"), "\(stat.stdoutText)")
    for output in [tarOrder.stdout, table.stdout, long.stdout, stat.stdout] {
      #expect(!output.contains { $0 == 0x1B || $0 == 0x7F }, "\(String(decoding: output, as: UTF8.self))")
      #expect(String(decoding: output, as: UTF8.self).split(separator: "\n").count <= 7)
    }
    let missing = try await CLI.run(["get", "x.tar.co", "zz\u{1B}[31m\nx"], in: directory)
    #expect(missing.status == 1)
    #expect(missing.stderr == "cotar: 'zz\\033[31m\\nx' is not in x.tar.co\n", "\(missing.stderr)")
  }

  @Test("ls -r --files | get --paths-from - reads every member back; so does ls --null | get --paths-from - --null")
  func pipelinesRoundTrip() async throws {
    let directory = try await Self.workspace()
    defer { try? FileManager.default.removeItem(at: directory) }
    let executable = CLI.executable.path
    for (name, ls, get) in [("lines", "", ""), ("nul", " --null", " --null")] {
      let result = try await CLI.shell(
        "'\(executable)' ls x.tar.co -r --files\(ls) | '\(executable)' get x.tar.co --paths-from -\(get) -o \(name)",
        in: directory)
      #expect(result.status == 0, "\(name): \(result.stderr)")
      for member in Self.members {
        let file = directory.appendingPathComponent(name).appendingPathComponent(member.name)
        #expect((try? Data(contentsOf: file)) == Data(member.data.utf8), "\(name): \(member.name)")
      }
    }
    let raw = try await CLI.run(["ls", "x.tar.co", "-r", "--files", "--null"], in: directory)
    #expect(raw.stdout.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.sorted() == Self.members.map(\.name).sorted())
    #expect(try await CLI.run(["ls", "x.tar.co", "--null", "--json"], in: directory).status == 64)
  }

  @Test("names with C1 controls, separators, unassigned code points and bytes that are not UTF-8 are listed as GNU tar lists them in a UTF-8 locale, and read back")
  func unicodeEscapedLikeGnuTar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // Files named with raw bytes (printf), archived by GNU tar.
    let names = [#"csi\302\23331m"#, #"bad\377name"#, #"sep\342\200\250x"#, #"nonchar\357\277\277"#, #"caf\303\251"#]
    let made = try await CLI.shell(
      "mkdir d && for n in \(names.map { "'\($0)'" }.joined(separator: " ")); do : > \"d/$(printf \"$n\")\"; done"
        + " && tar -cf x.tar d && LC_ALL=C.UTF-8 tar -tf x.tar > gnu.txt",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let gnu = try Data(contentsOf: directory.appendingPathComponent("gnu.txt"))
    #expect(String(decoding: gnu, as: UTF8.self).contains("d/csi\\302\\23331m\n"), "\(String(decoding: gnu, as: UTF8.self))")
    #expect(try await CLI.run(["index", "x.tar"], in: directory).status == 0)
    let listed = try await CLI.run(["ls", "x.tar", "--tar-order"], in: directory)
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdout == gnu, "\(listed.stdoutText)")
    #expect(!listed.stdout.contains(0xFF) && !listed.stdout.contains(0x9B))
    let stat = try await CLI.run(["stat", "x.tar", "d/" + String(decoding: [0x62, 0x61, 0x64, 0xFF], as: UTF8.self)], in: directory)
    #expect(stat.status == 1)  // U+FFFD is not the byte 0xFF: the name is passed as raw bytes or escaped
    let back = try await CLI.shell("'\(CLI.executable.path)' ls x.tar -r --files | '\(CLI.executable.path)' get x.tar --paths-from - -o out", in: directory)
    #expect(back.status == 0, "\(back.stderr)")
    let extracted = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out/d").path)
    #expect(extracted.count == names.count, "\(extracted)")
  }
}
