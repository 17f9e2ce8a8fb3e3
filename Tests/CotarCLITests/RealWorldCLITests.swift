import CotarTestSupport
import Foundation
import Testing

/// Issue 10, as a user meets it: the built `cotar` on real tars.
@Suite("Real-world inputs, command line")
struct RealWorldCLITests {
  @Test("without --packing the packing is raised and reported; an explicit --packing stays strict")
  func automaticPacking() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("out.tar.co").path
    let automatic = try await CLI.run(["create", CLI.fixture("probe-overflow.tar"), "-o", output])
    #expect(automatic.status == 0, "\(automatic.stderr)")
    #expect(automatic.stderr.contains("(automatic)"))
    let info = try await CLI.run(["info", output])
    #expect(info.status == 0)
    let packingLine = try #require(info.stdoutText.split(separator: "\n").first { $0.hasPrefix("packing: ") })
    let value = try #require(Double(packingLine.dropFirst("packing: ".count).dropLast()))
    #expect(value > 25)
    #expect(automatic.stderr.contains("packing \(Int(value))% (automatic)"))
    #expect(try await CLI.run(["validate", output]).status == 0)
    let strict = try await CLI.run(["index", CLI.fixture("probe-overflow.tar"), "-o", output + ".index", "--packing", "25"])
    #expect(strict.status == 1)
    #expect(strict.stderr.contains("no free slot within 50 probes"))
    // The packing chosen, given explicitly, reproduces the same index.
    let explicit = try await CLI.run(["create", CLI.fixture("probe-overflow.tar"), "-o", output, "--force", "--packing", String(Int(value))])
    #expect(explicit.status == 0)
    #expect(!explicit.stderr.contains("automatic"))
  }

  @Test("`create` terminates a tar without end marker; ls and validate stop at the tar end")
  func unterminatedTar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("out.tar.co").path
    #expect(try await CLI.run(["create", CLI.fixture("no-eof-marker.tar"), "-o", output]).status == 0)
    let expected = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-m", "tarfile", "-l", CLI.fixture("no-eof-marker.tar")])
    for (program, arguments) in [("/usr/bin/tar", ["-tf", output]), ("/usr/bin/bsdtar", ["-tf", output])] {
      let listed = try await CLI.launch(URL(fileURLWithPath: program), arguments)
      #expect(listed.status == 0, "\(program): \(listed.stderr)")
      #expect(listed.stderr.isEmpty, "\(program): \(listed.stderr)")
    }
    #expect(expected.status == 0)
    #expect(try await CLI.run(["validate", output]).status == 0)
    let ls = try await CLI.run(["ls", "--tar-order", output])
    #expect(ls.status == 0, "\(ls.stderr)")
    // A .tar.co written without the marker (by an older cotar) still lists and validates.
    let old = directory.appendingPathComponent("old.tar.co").path
    let tar = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture("no-eof-marker.tar")))
    let index = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture("no-eof-marker.tar.index")))
    try (tar + index).write(to: URL(fileURLWithPath: old))
    let oldList = try await CLI.run(["ls", "--tar-order", old])
    #expect(oldList.status == 0, "\(oldList.stderr)")
    #expect(oldList.stdout == ls.stdout)
    let oldValid = try await CLI.run(["validate", old])
    #expect(oldValid.status == 0, "\(oldValid.stderr) \(oldValid.stdoutText)")
  }

  @Test("a 0-byte file and compressed tars get a clear error")
  func notATar() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let empty = directory.appendingPathComponent("empty.tar").path
    #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
    let result = try await CLI.run(["index", empty])
    #expect(result.status == 1)
    #expect(result.stderr.contains("empty (0 bytes), not a tar"))
    #expect(!FileManager.default.fileExists(atPath: empty + ".index"))
    // A .tar.gz gets a .tar.gz.index (SPEC §13); gzip data under a .tar name is refused clearly.
    let gz = try await CLI.run(["index", CLI.fixture("realworld/gnu-basic.tar.gz"), "-o", directory.appendingPathComponent("x").path])
    #expect(gz.status == 0, "\(gz.stderr)")
    #expect(gz.stderr.contains("seek point"), "\(gz.stderr)")
    let renamed = directory.appendingPathComponent("renamed.tar").path
    try FileManager.default.copyItem(atPath: CLI.fixture("realworld/gnu-basic.tar.gz"), toPath: renamed)
    let plain = try await CLI.run(["index", renamed])
    #expect(plain.status == 1)
    #expect(
      plain.stderr.contains(
        "renamed.tar is gzip-compressed but not named .tar.gz or .tgz (Cotar reads a gzip-compressed tar by its name): rename it to \(renamed).gz (then 'cotar index \(renamed).gz' works), or decompress it"
      ), "\(plain.stderr)")
  }

  @Test("`ls` on a truncated tar prints the members it read, then the error, exit 1")
  func listTruncated() async throws {
    let result = try await CLI.run(["ls", "--tar-order", CLI.fixture("truncated.tar")])
    #expect(result.status == 1)
    // Every member whose header was read, the cut one included, as GNU tar lists them.
    let gnu = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-tf", CLI.fixture("truncated.tar")])
    #expect(!gnu.stdout.isEmpty)
    #expect(result.stdout == gnu.stdout)
    #expect(result.stderr.contains("truncated"))
  }

  @Test(
    "numeric options that would trap are refused with exit 64",
    arguments: [
      ["--timeout", "inf"], ["--timeout", "1e300"], ["--timeout", "nan"], ["--coalesce-gap", "18446744073709551615"],
      ["--speculative-bytes", "9223372036854775807"], ["--attempts", "1000000000"], ["--concurrency", "100000000"],
    ])
  func numericOptions(option: [String]) async throws {
    let result = try await CLI.run(["get", CLI.fixture("gnu-basic.tar.co"), "x"] + option)
    #expect(result.status == 64, "\(option): \(result.stderr)")
    #expect(result.stderr.contains(option[0]))
  }

  @Test("--packing out of range is refused with exit 64", arguments: ["-5", "inf", "nan", "1e300"])
  func packingRange(value: String) async throws {
    let result = try await CLI.run(["index", CLI.fixture("gnu-basic.tar"), "--packing", value, "-o", "/dev/null"])
    #expect(result.status == 64, "\(value): \(result.stderr)")
  }

  @Test("a .tar.co whose index header differs from its footer is refused by get, info and validate")
  func headerFooterMismatch() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var tar = TestTar()
    for index in 0..<5000 { tar.add("f\(index)", "") }
    try Data(tar.finished).write(to: directory.appendingPathComponent("big.tar"))
    #expect(try await CLI.run(["create", "big.tar", "--no-names"], in: directory).status == 0)
    var bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent("big.tar.co")))
    let indexStart = bytes.count - (Int(UInt32(bytes[bytes.count - 4]) | UInt32(bytes[bytes.count - 3]) << 8 | UInt32(bytes[bytes.count - 2]) << 16 | UInt32(bytes[bytes.count - 1]) << 24) * 16 + 16)
    #expect(indexStart == tar.finished.count)
    bytes[indexStart + 4] ^= 1  // header slot count
    try Data(bytes).write(to: directory.appendingPathComponent("big.tar.co"))
    for arguments in [["get", "big.tar.co", "f1"], ["info", "big.tar.co"], ["validate", "big.tar.co"]] {
      let run = try await CLI.run(arguments, in: directory)
      #expect(run.status == 1, "\(arguments)")
      #expect(run.stderr.contains("header and footer differ"), "\(arguments): \(run.stderr)")
    }
  }

  @Test("`index a.tar -o a.tar --force` and `create` onto the input are refused; the tar is untouched")
  func outputIsTheInput() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = directory.appendingPathComponent("a.tar")
    try Data(contentsOf: URL(fileURLWithPath: CLI.fixture("gnu-basic.tar"))).write(to: tar)
    let before = try Data(contentsOf: tar)
    for arguments in [["index", "a.tar", "-o", "a.tar", "--force"], ["create", "a.tar", "-o", "./a.tar", "--force"]] {
      let run = try await CLI.run(arguments, in: directory)
      #expect(run.status == 1, "\(arguments)")
      #expect(run.stderr.contains("also an input"), "\(run.stderr)")
      #expect(try Data(contentsOf: tar) == before)
    }
  }

  @Test("`get -o DIR` never writes outside DIR, keeps raw names apart, reports bad names and goes on")
  func safeExtraction() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var tar = TestTar()
    tar.add("ok.txt", "ok\n")
    tar.add("link/file", "through the link\n")
    tar.add(Array("bad".utf8) + [0xFF], Array("ff\n".utf8))
    tar.add(Array("bad".utf8) + [0xFE], Array("fe\n".utf8))
    tar.add("../evil", "evil\n")
    tar.add("sub/../../evil2", "evil\n")
    try Data(tar.finished).write(to: directory.appendingPathComponent("t.tar"))
    #expect(try await CLI.run(["create", "t.tar"], in: directory).status == 0)
    let out = directory.appendingPathComponent("out")
    let elsewhere = directory.appendingPathComponent("elsewhere")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent("link").path, withDestinationPath: elsewhere.path)
    var list: [UInt8] = []
    for name in [Array("ok.txt".utf8), Array("link/file".utf8), Array("bad".utf8) + [0xFF], Array("bad".utf8) + [0xFE],
      Array("../evil".utf8), Array("sub/../../evil2".utf8), Array("/etc/passwd".utf8), Array("nul".utf8) + [0] + Array("x".utf8)]
    {
      list += name + [0x0A]
    }
    try Data(list).write(to: directory.appendingPathComponent("list"))
    let run = try await CLI.run(["get", "t.tar.co", "--paths-from", "list", "-o", "out"], in: directory)
    #expect(run.status == 1)
    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("evil").path))
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("evil2").path))
    #expect(try String(contentsOf: out.appendingPathComponent("ok.txt"), encoding: .utf8) == "ok\n")
    // Raw names: two files, not one.
    let names = try await FileManager.default.contentsOfDirectoryBytes(atPath: out.path)
    #expect(names.contains(Array("bad".utf8) + [0xFF]))
    #expect(names.contains(Array("bad".utf8) + [0xFE]))
    #expect(names.count == 4, "\(names)")  // ok.txt, link, bad\xff, bad\xfe; no temporary files
    let errors = run.stderr.split(separator: "\n")
    #expect(errors.filter { $0.contains("refusing") }.count == 5, "\(run.stderr)")  // link/file, .., .., absolute, NUL
    // One entry to an existing directory: the advice names -o DIR/NAME, not --force.
    let single = try await CLI.run(["get", "t.tar.co", "ok.txt", "-o", "out"], in: directory)
    #expect(single.status == 1)
    #expect(single.stderr.contains("is a directory"))
    #expect(!single.stderr.contains("--force"))
  }
}

extension FileManager {
  /// The raw names in a directory (`contentsOfDirectory` decodes them lossily).
  func contentsOfDirectoryBytes(atPath path: String) async throws -> [[UInt8]] {
    let listing = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import os,sys; sys.stdout.buffer.write(b'\\0'.join(os.listdir(sys.argv[1].encode())))", path])
    return listing.stdout.split(separator: 0).map(Array.init)
  }
}
