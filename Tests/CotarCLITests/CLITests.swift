import CotarTestSupport
import Foundation
import Testing

/// Expected entries of a fixture, from `Fixtures/manifest.json`.
struct ManifestFixture: Decodable, Sendable, CustomStringConvertible {
  struct Entry: Decodable, Sendable {
    var path_hex: String
    var path: String?
    var offset: Int
    var size: Int
  }
  var name: String
  var valid: Bool
  var index: String?
  var co: String?
  var entries: [Entry]?
  var absent: [String]?
  var error: String?
  var description: String { name }

  static let all: [ManifestFixture] = {
    struct Manifest: Decodable { var fixtures: [ManifestFixture] }
    let url = CLI.repositoryRoot.appendingPathComponent("Fixtures/manifest.json")
    guard let data = try? Data(contentsOf: url), let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else {
      return []
    }
    return manifest.fixtures
  }()
  static var indexed: [ManifestFixture] { all.filter { $0.valid && $0.index != nil } }
  static var broken: [ManifestFixture] { all.filter { !$0.valid } }
}

@Suite("cotar command line")
struct CLITests {
  @Test("`cotar index` writes the reference index byte for byte", arguments: ManifestFixture.indexed)
  func indexMatchesReference(fixture: ManifestFixture) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("out.index").path
    let result = try await CLI.run(["index", CLI.fixture(fixture.name), "-o", output])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("\(fixture.entries?.count ?? -1) entries"))
    let expected = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture(try #require(fixture.index))))
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == expected)
  }

  @Test("`cotar create` writes tar + index that GNU tar and Python still list", arguments: ["gnu-basic.tar", "python-pax.tar", "gnu-longname.tar"])
  func createCombined(name: String) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("out.tar.co").path
    let result = try await CLI.run(["create", CLI.fixture(name), "-o", output])
    #expect(result.status == 0, "\(result.stderr)")
    let tar = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture(name)))
    let index = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture(name + ".index")))
    // tar, then the name table (SPEC §12), then the reference index byte for byte.
    let written = try Data(contentsOf: URL(fileURLWithPath: output))
    #expect(written.prefix(tar.count) == tar)
    #expect(written.suffix(index.count) == index)
    #expect(written.count > tar.count + index.count)
    let plain = directory.appendingPathComponent("plain.tar.co").path
    #expect(try await CLI.run(["create", CLI.fixture(name), "-o", plain, "--no-names"]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: plain)) == tar + index)
    let listings = [("/usr/bin/tar", ["-tf", output]), ("/usr/bin/env", ["python3", "-m", "tarfile", "-l", output])]
    for (program, arguments) in listings {
      let listed = try await CLI.launch(URL(fileURLWithPath: program), arguments)
      #expect(listed.status == 0, "\(program) failed: \(listed.stderr)")
      #expect(!listed.stdout.isEmpty)
    }
    let gnuList = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-tf", CLI.fixture(name)])
    #expect(try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-tf", output]).stdout == gnuList.stdout)
  }

  @Test(
    "`cotar create` writes tar + index that bsdtar lists like GNU tar",
    .enabled(if: ProcessRunner.isAvailable("bsdtar"), "bsdtar is not installed (apt-get install libarchive-tools; .ci/run does)"),
    arguments: ["gnu-basic.tar", "python-pax.tar", "gnu-longname.tar"])
  func createCombinedListsInBsdtar(name: String) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("out.tar.co").path
    #expect(try await CLI.run(["create", CLI.fixture(name), "-o", output]).status == 0)
    let bsd = try await ProcessRunner.runDetached("bsdtar", ["-tf", output])
    #expect(bsd.status == 0, "bsdtar failed: \(bsd.stderr)")
    let gnu = try await ProcessRunner.runDetached("tar", ["-tf", CLI.fixture(name)])
    #expect(Set(bsd.stdoutText.split(separator: "\n")) == Set(gnu.stdoutText.split(separator: "\n")))
  }

  @Test("`cotar get` returns every entry byte-exact from both layouts", arguments: ManifestFixture.indexed)
  func getEveryEntry(fixture: ManifestFixture) async throws {
    let tar = try Data(contentsOf: URL(fileURLWithPath: CLI.fixture(fixture.name)))
    for entry in fixture.entries ?? [] {
      let expected = tar.subdata(in: entry.offset..<(entry.offset + entry.size))
      let result: CommandResult
      if let path = entry.path {
        result = try await CLI.run(["get", CLI.fixture(fixture.name), path])
      } else {
        let escaped = stride(from: 0, to: entry.path_hex.count, by: 2).map { offset -> String in
          let start = entry.path_hex.index(entry.path_hex.startIndex, offsetBy: offset)
          let byte = UInt8(entry.path_hex[start..<entry.path_hex.index(start, offsetBy: 2)], radix: 16) ?? 0
          return "\\" + String(byte, radix: 8)
        }.joined()
        result = try await CLI.shell("'\(CLI.executable.path)' get '\(CLI.fixture(fixture.name))' \"$(printf '\(escaped)')\"")
      }
      #expect(result.status == 0, "\(entry.path ?? entry.path_hex): \(result.stderr)")
      #expect(result.stdout == expected)
    }
    if let co = fixture.co, let first = fixture.entries?.first(where: { $0.path != nil }), let path = first.path {
      let result = try await CLI.run(["get", CLI.fixture(co), path])
      #expect(result.stdout == tar.subdata(in: first.offset..<(first.offset + first.size)))
    }
  }

  @Test("an absent path prints a message and exits 1")
  func getAbsent() async throws {
    let result = try await CLI.run(["get", CLI.fixture("gnu-basic.tar.co"), "no/such/file"])
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("'no/such/file' is not in"))
  }

  @Test("broken inputs give one clear line, exit 1 and leave no file", arguments: ManifestFixture.broken)
  func brokenInputs(fixture: ManifestFixture) async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    for command in ["index", "create"] {
      let result = try await CLI.run([command, CLI.fixture(fixture.name), "-o", directory.appendingPathComponent("out").path])
      #expect(result.status == 1)
      let lines = result.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(result.stderr)")
      #expect(result.stderr.contains(fixture.name))
      #expect(result.stderr.contains("byte "))
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
  }

  @Test("an existing output is kept unless --force")
  func noClobber() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("out.index")
    try Data("precious".utf8).write(to: output)
    let refused = try await CLI.run(["index", CLI.fixture("gnu-basic.tar"), "-o", output.path])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("--force"))
    #expect(try Data(contentsOf: output) == Data("precious".utf8))
    let forced = try await CLI.run(["index", CLI.fixture("gnu-basic.tar"), "-o", output.path, "--force"])
    #expect(forced.status == 0)
    #expect(try Data(contentsOf: output) == Data(contentsOf: URL(fileURLWithPath: CLI.fixture("gnu-basic.tar.index"))))
  }

  @Test("`cotar validate` accepts a matching index and lists problems for a wrong one")
  func validate() async throws {
    let good = try await CLI.run(["validate", CLI.fixture("gnu-basic.tar.co")])
    #expect(good.status == 0)
    #expect(good.stdoutText == "valid: 6 entries, 6 filled slots\n")
    let wrong = try await CLI.run(["validate", CLI.fixture("gnu-basic.tar"), "--index", CLI.fixture("python-basic.tar.index")])
    #expect(wrong.status == 1)
    #expect(wrong.stdoutText.hasPrefix("invalid: "))
    #expect(wrong.stdoutText.contains("is not in the index"))
  }

  @Test("`cotar info` prints the index figures")
  func info() async throws {
    let result = try await CLI.run(["info", CLI.fixture("gnu-basic.tar.co")])
    #expect(result.status == 0)
    let text = result.stdoutText
    #expect(text.contains("version: 2\n"))
    #expect(text.contains("slots: 8\n"))
    #expect(text.contains("entries: 6\n"))
    #expect(text.contains("load factor: 0.750\n"))
    #expect(text.contains("index bytes: 144\n"))
  }

  @Test("`cotar ls --tar-order` lists members as tar -tf; --long adds kind, offset and size")
  func list() async throws {
    let plain = try await CLI.run(["ls", "--tar-order", CLI.fixture("gnu-basic.tar")])
    let gnu = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-tf", CLI.fixture("gnu-basic.tar")])
    #expect(plain.status == 0)
    #expect(plain.stdout == gnu.stdout)
    let long = try await CLI.run(["ls", "--tar-order", "--long", CLI.fixture("gnu-basic.tar")])
    #expect(long.stdoutText.contains("file\t3584\t14\tdir/hello.txt\n"))
    let json = try await CLI.run(["ls", "--tar-order", "--json", CLI.fixture("gnu-basic.tar")])
    #expect(json.stdoutText.contains("{\"path\":\"dir/hello.txt\",\"type\":\"file\",\"offset\":3584,\"size\":14}"))
  }

  @Test("usage errors exit 64")
  func usage() async throws {
    #expect(try await CLI.run(["index"]).status == 64)
    #expect(try await CLI.run(["index", CLI.fixture("gnu-basic.tar"), "--packing", "-5"]).status == 64)
    #expect(try await CLI.run(["get", CLI.fixture("gnu-basic.tar.co")]).status == 64)
  }

  @Test("`cotar demo` runs on the bundled sample in $TMPDIR and leaves nothing there")
  func demo() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try await CLI.shell("TMPDIR='\(directory.path)' '\(CLI.executable.path)' demo", in: CLI.repositoryRoot)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdoutText.contains("OK: 6 entries read back byte-exact"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

    let missing = directory.appendingPathComponent("missing").path
    let refused = try await CLI.shell("TMPDIR='\(missing)' '\(CLI.executable.path)' demo", in: CLI.repositoryRoot)
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("cannot create a temporary directory in \(missing)"), "\(refused.stderr)")
  }
}

@Suite("cotar command line interruption")
struct CLIInterruptTests {
  /// Writes at `tar` a tar of one 1 GiB member `big.bin` stored sparsely: cheap on disk, slow
  /// enough to copy that a signal lands mid-run.
  static func makeSparseTar(_ tar: String) async throws {
    let made = try await CLI.shell(
      """
      python3 -c "
      import sys
      h = bytearray(512); h[0:7] = b'big.bin'; h[100:108] = b'0000644\\0'; h[124:136] = b'%011o\\0' % (1 << 30)
      h[156] = 48; h[257:265] = b'ustar\\x0000'; h[148:156] = b' ' * 8; h[148:156] = b'%06o\\0 ' % sum(h)
      f = open(sys.argv[1], 'wb'); f.write(h); f.truncate(512 + (1 << 30) + 1024)
      " '\(tar)'
      """)
    #expect(made.status == 0, "\(made.stderr)")
  }

  @Test("SIGINT during `cotar create` removes the temporary output", .timeLimit(.minutes(5)))
  func interruptedCreate() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = directory.appendingPathComponent("sparse.tar").path
    try await Self.makeSparseTar(tar)
    // The signal must land while the run is in progress: wait until its temporary file
    // exists, then interrupt. A run that finished first (a fast copy on an idle machine) is
    // not an interruption; try again, a bounded number of times.
    for _ in 0..<5 {
      let output = directory.appendingPathComponent("out")
      try? FileManager.default.removeItem(at: output)
      try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
      let outputPath = output.path
      // Polling and waiting block: they run off the cooperative threads.
      let status = try await ProcessRunner.offThePool { () throws -> Int32 in
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["create", tar, "-o", outputPath + "/big.tar.co"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(50)
        while process.isRunning, try FileManager.default.contentsOfDirectory(atPath: outputPath).isEmpty, Date() < deadline {
          usleep(500)
        }
        process.interrupt()
        process.waitUntilExit()
        return process.terminationStatus
      }
      if status == 0 { continue }
      #expect(status == 130)
      #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
      return
    }
    Issue.record("every run finished before the interrupt landed")
  }
}

@Suite("cotar tar --co --index followed by append")
struct CombinedWithSidecarTests {
  @Test("append keeps a .tar.co and its sidecar copy in step; readers use the footer of a .tar.co")
  func appendUpdatesBoth() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tree = directory.appendingPathComponent("tree")
    try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
    try Data("one".utf8).write(to: tree.appendingPathComponent("one.txt"))
    try Data("two".utf8).write(to: directory.appendingPathComponent("two.txt"))
    let archive = directory.appendingPathComponent("out.tar.co").path
    #expect(try await CLI.run(["tar", archive, "--base", tree.path, ".", "--co", "--index"]).status == 0)
    #expect(try await CLI.run(["append", archive, "--base", directory.path, directory.appendingPathComponent("two.txt").path]).status == 0)
    #expect(try await CLI.run(["get", archive, "two.txt"]).stdout == Data("two".utf8))
    #expect(try await CLI.run(["validate", archive]).status == 0)
    let viaSidecar = try await CLI.run(["validate", archive, "--index", archive + ".index"])
    #expect(viaSidecar.status == 0, "\(viaSidecar.stdoutText)")
  }
}
