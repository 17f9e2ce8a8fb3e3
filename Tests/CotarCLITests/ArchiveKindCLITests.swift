import CotarTestSupport
import Foundation
import Testing

/// Messages for files that are not tars (other archive formats, a `cotar pack` manifest),
/// paths given twice to `get -o DIR`, and directory members named without their slash.
@Suite("CLI archive kinds and path messages", .timeLimit(.minutes(5)))
struct ArchiveKindCLITests {
  @Test("ls, stat and extract of a cotar pack manifest say what it is and point to cotar get")
  func shardManifest() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let tree = directory.appendingPathComponent("pk")
    try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
    try Data("hello\n".utf8).write(to: tree.appendingPathComponent("a"))
    let packed = try await CLI.run(["pack", "pk", "-o", "set", "--shard-size", "1MiB"], in: directory)
    try #require(packed.status == 0, "\(packed.stderr)")
    for command in [["ls", "set.manifest.json"], ["ls", "--long", "set.manifest.json"], ["stat", "set.manifest.json", "pk/a"],
      ["extract", "set.manifest.json", "-o", "out"], ["index", "set.manifest.json"]]
    {
      let result = try await CLI.run(command, in: directory)
      #expect(result.status == 1, "\(command): \(result.stderr)")
      #expect(
        result.stderr.contains("set.manifest.json is not a tar: it is a cotar pack manifest")
          && result.stderr.contains("'cotar get set.manifest.json PATH…'"), "\(command): \(result.stderr)")
      #expect(!result.stderr.contains("checksum"), "\(command): \(result.stderr)")
    }
    // What the message suggests works.
    let got = try await CLI.run(["get", "set.manifest.json", "pk/a"], in: directory)
    #expect(got.status == 0 && got.stdoutText == "hello\n", "\(got.stderr)")
  }

  @Test("ZIP, cpio and 7-Zip files of any size are named as such, not as truncated tars")
  func otherArchiveFormats() async throws {
    try #require(ProcessRunner.isAvailable("bsdtar"), "bsdtar is not installed (apt-get install libarchive-tools; .ci/run does)")
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      """
      set -e
      echo hi > z.txt
      head -c 3000 /dev/zero | tr '\\0' 'x' > big.txt
      python3 -c "
      import zipfile
      with zipfile.ZipFile('py.zip', 'w') as z: z.write('z.txt')
      with zipfile.ZipFile('big.zip', 'w') as z: z.write('big.txt')
      "
      bsdtar --format=zip -cf bsd.zip z.txt
      bsdtar --format=odc -cf odc.cpio z.txt
      bsdtar --format=newc -cf newc.cpio z.txt
      bsdtar --format=7zip -cf small.7z z.txt
      """, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    let files = [
      ("py.zip", "a ZIP archive"), ("big.zip", "a ZIP archive"), ("bsd.zip", "a ZIP archive"),
      ("odc.cpio", "a cpio archive"), ("newc.cpio", "a cpio archive"), ("small.7z", "a 7-Zip archive"),
    ]
    for (file, kind) in files {
      for command in [["ls", file], ["stat", file, "z.txt"], ["get", file, "z.txt"], ["index", file], ["extract", file, "-o", "out"]] {
        let result = try await CLI.run(command, in: directory)
        #expect(result.status == 1, "\(command): \(result.stderr)")
        #expect(result.stderr.contains("\(file) is not a tar: it looks like \(kind)"), "\(command): \(result.stderr)")
        #expect(!result.stderr.contains("truncated"), "\(command): \(result.stderr)")
      }
    }
    // The conversion the message suggests works.
    let converted = try await CLI.shell("bsdtar -cf new.tar @py.zip", in: directory)
    #expect(converted.status == 0, "\(converted.stderr)")
    let got = try await CLI.run(["get", "new.tar", "z.txt"], in: directory)
    #expect(got.stdoutText == "hi\n", "\(got.stderr)")
  }

  @Test("small xz, zstd, bzip2 and gzip files are named as compressed", arguments: [("xz", "xz"), ("zstd", "zstd"), ("bzip2", "bzip2"), ("gzip", "gzip")])
  func smallCompressedFiles(tool: String, format: String) async throws {
    try #require(ProcessRunner.isAvailable(tool), "\(tool) is not installed")
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell("echo hi | \(tool) -c > small.bin", in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    for command in [["ls", "small.bin"], ["get", "small.bin", "x"]] {
      let result = try await CLI.run(command, in: directory)
      #expect(result.status == 1, "\(command): \(result.stderr)")
      #expect(result.stderr.contains("small.bin is \(format)-compressed"), "\(command): \(result.stderr)")
    }
  }

  @Test("get -o DIR with the same path twice (or f and ./f) writes it once, with a note, not EEXIST")
  func samePathTwice() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell("echo data > f && echo other > g && tar -cf x.tar f g", in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    #expect(try await CLI.run(["create", "x.tar", "-o", "x.tar.co"], in: directory).status == 0)
    for archive in ["x.tar", "x.tar.co"] {
      let out = "out-\(archive)"
      let twice = try await CLI.run(["get", archive, "f", "g", "f", "./f", "-o", out], in: directory)
      #expect(twice.status == 0, "\(archive): \(twice.stderr)")
      #expect(twice.stderr.contains("'f' was given more than once; it is written once, from the first"), "\(twice.stderr)")
      #expect(twice.stderr.contains("'./f' names the same output file as 'f'"), "\(twice.stderr)")
      #expect(!twice.stderr.contains("EEXIST") && !twice.stderr.contains("exists"), "\(twice.stderr)")
      #expect(try String(contentsOf: directory.appendingPathComponent("\(out)/f"), encoding: .utf8) == "data\n")
      #expect(try String(contentsOf: directory.appendingPathComponent("\(out)/g"), encoding: .utf8) == "other\n")
    }
  }

  @Test("stat finds a directory member stored as 'sticky/' when asked for 'sticky', and the other way round")
  func directoryMemberWithoutSlash() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      "mkdir sticky && chmod 1777 sticky && touch sticky/x && tar -cf gnu.tar sticky && tar -tf gnu.tar > listed", in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    #expect(try String(contentsOf: directory.appendingPathComponent("listed"), encoding: .utf8) == "sticky/\nsticky/x\n")
    #expect(try await CLI.run(["create", "gnu.tar", "-o", "gnu.tar.co"], in: directory).status == 0)
    for archive in ["gnu.tar", "gnu.tar.co"] {
      for path in ["sticky", "sticky/", "sticky//"] {
        let result = try await CLI.run(["stat", archive, path], in: directory)
        #expect(result.status == 0, "\(archive) \(path): \(result.stderr)")
        #expect(result.stdoutText.hasPrefix("path: sticky/\nkind: directory\n"), "\(archive) \(path): \(result.stdoutText)")
        #expect(!result.stdoutText.contains("implied"), "\(result.stdoutText)")
      }
      let missing = try await CLI.run(["stat", archive, "stick"], in: directory)
      #expect(missing.status == 1 && missing.stderr.contains("no member 'stick'"), "\(missing.stderr)")
    }
  }
}
