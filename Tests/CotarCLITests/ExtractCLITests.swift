import CotarTestSupport
import Foundation
import Testing

/// `cotar extract`: a GNU tar of a real tree (directories with modes, files, a hard link,
/// symbolic links inside and escaping) extracted locally and over HTTP gives what `tar -x`
/// gives, minus the escaping links, which are refused with a message.
@Suite("cotar extract", .timeLimit(.minutes(5)))
struct ExtractCLITests {
  /// A tree, its GNU tar (`tar -C tree -cf … .`, so names start with `./`) and `.tar.co`.
  static let archive = Task { () throws -> (directory: URL, tar: String, archive: String) in
    let directory = try CLI.temporaryDirectory()
    let tree = directory.appendingPathComponent("tree")
    let manager = FileManager.default
    func file(_ path: String, _ text: String, mode: Int) throws {
      let url = tree.appendingPathComponent(path)
      try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
      try manager.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }
    try file("bin/tool", "#!/bin/sh\necho tool\n", mode: 0o755)
    try file("share/doc/readme.txt", "read me\n", mode: 0o644)
    try file("share/doc/private/notes.txt", "secret\n", mode: 0o600)
    try file("data/big.bin", String(repeating: "0123456789abcdef", count: 1 << 20), mode: 0o640)  // 16 MiB: streamed
    try manager.linkItem(atPath: tree.appendingPathComponent("bin/tool").path, toPath: tree.appendingPathComponent("bin/tool-again").path)
    try manager.createSymbolicLink(atPath: tree.appendingPathComponent("bin/alias").path, withDestinationPath: "tool")
    try manager.createSymbolicLink(atPath: tree.appendingPathComponent("share/doc/up").path, withDestinationPath: "../../bin/tool")
    try manager.createSymbolicLink(atPath: tree.appendingPathComponent("share/escape").path, withDestinationPath: "../../outside")
    try manager.createSymbolicLink(atPath: tree.appendingPathComponent("share/absolute").path, withDestinationPath: "/etc/passwd")
    try manager.setAttributes([.posixPermissions: 0o750], ofItemAtPath: tree.appendingPathComponent("share/doc/private").path)
    try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: tree.appendingPathComponent("data").path)
    let tar = directory.appendingPathComponent("tree.tar").path
    let made = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["--format=gnu", "-C", tree.path, "-cf", tar, "."])
    #expect(made.status == 0, "\(made.stderr)")
    let archive = directory.appendingPathComponent("tree.tar.co").path
    let created = try await CLI.run(["create", tar, "-o", archive])
    #expect(created.status == 0, "\(created.stderr)")
    return (directory, tar, archive)
  }

  /// Every name below `root` with its kind, permission bits, content or link target.
  static func describe(_ root: String) throws -> [String: String] {
    let manager = FileManager.default
    var result: [String: String] = [:]
    for name in try manager.subpathsOfDirectory(atPath: root) {
      let path = root + "/" + name
      let attributes = try manager.attributesOfItem(atPath: path)
      let mode = String((attributes[.posixPermissions] as? Int) ?? -1, radix: 8)
      switch attributes[.type] as? FileAttributeType {
      case .typeSymbolicLink?: result[name] = "link -> " + (try manager.destinationOfSymbolicLink(atPath: path))
      case .typeDirectory?: result[name] = "dir \(mode)"
      default:
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        result[name] = "file \(mode) \(data.count) \(data.hashValue)"
      }
    }
    return result
  }

  /// What `tar -x` gives, without the links `extract` refuses.
  static func expected(_ tar: String, in directory: URL) async throws -> [String: String] {
    let reference = directory.appendingPathComponent("reference-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
    let unpacked = try await CLI.launch(URL(fileURLWithPath: "/usr/bin/tar"), ["-C", reference.path, "-xf", tar])
    #expect(unpacked.status == 0, "\(unpacked.stderr)")
    var tree = try describe(reference.path)
    tree["share/escape"] = nil
    tree["share/absolute"] = nil
    return tree
  }

  @Test("extract of a GNU tar equals tar -x (modes, hard and symbolic links); escaping links are refused by name")
  func wholeArchive() async throws {
    let (directory, tar, archive) = try await Self.archive.value
    let out = directory.appendingPathComponent("out-\(UUID().uuidString)").path
    let result = try await CLI.run(["extract", archive, "-o", out])
    #expect(result.status == 1, "\(result.stderr)")
    #expect(
      result.stderr.contains("cotar: \(archive), entry './share/escape': refusing symbolic link to '../../outside': it could lead outside the output directory"),
      "\(result.stderr)")
    #expect(result.stderr.contains("refusing symbolic link to '/etc/passwd': it is absolute"), "\(result.stderr)")
    #expect(result.stderr.contains("extracted 4 files, 6 directories and 3 links"), "\(result.stderr)")
    #expect(result.stderr.contains("2 members failed or skipped"), "\(result.stderr)")
    let got = try Self.describe(out)
    #expect(got == (try await Self.expected(tar, in: directory)))
    #expect(got["share/doc/private"] == "dir 750")
    #expect(got["bin/alias"] == "link -> tool")
    let tool = try FileManager.default.attributesOfItem(atPath: out + "/bin/tool")
    let again = try FileManager.default.attributesOfItem(atPath: out + "/bin/tool-again")
    #expect(tool[.systemFileNumber] as? Int == again[.systemFileNumber] as? Int, "a hard link, not a copy")

    let again2 = try await CLI.run(["extract", archive, "./bin", "-o", out])
    #expect(again2.status == 1)
    #expect(again2.stderr.contains("the file exists; pass --force to replace it"), "\(again2.stderr)")
    let forced = try await CLI.run(["extract", archive, "./bin", "-o", out, "--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
  }

  @Test("extract PREFIX and --glob choose members; a prefix without './' gets a did-you-mean")
  func selection() async throws {
    let (directory, _, archive) = try await Self.archive.value
    let out = directory.appendingPathComponent("out-\(UUID().uuidString)").path
    let result = try await CLI.run(["extract", archive, "./share/doc", "--glob", "**/*.bin", "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let names = Set(try FileManager.default.subpathsOfDirectory(atPath: out))
    #expect(
      names == [
        "share", "share/doc", "share/doc/readme.txt", "share/doc/private", "share/doc/private/notes.txt", "share/doc/up", "data",
        "data/big.bin",
      ])
    // The hard link's target is not extracted: it becomes a copy.
    let copy = try await CLI.run(["extract", archive, "./bin/tool-again", "-o", out + "-copy"])
    #expect(copy.status == 0, "\(copy.stderr)")
    #expect(try String(contentsOfFile: out + "-copy/bin/tool-again", encoding: .utf8) == "#!/bin/sh\necho tool\n")

    let missing = try await CLI.run(["extract", archive, "share/doc", "--glob", "*.nothing", "-o", out + "-none"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("cotar: 'share/doc' is not in \(archive); did you mean './share/doc'?"), "\(missing.stderr)")
    #expect(missing.stderr.contains("cotar: no member of \(archive) matches --glob '*.nothing'"), "\(missing.stderr)")
  }

  @Test("extract over HTTP gives the same tree in a few requests")
  func remote() async throws {
    let (directory, tar, archive) = try await Self.archive.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    try await server.putFile("tree.tar.co", path: archive)
    let out = directory.appendingPathComponent("out-\(UUID().uuidString)").path
    let result = try await CLI.run(["extract", server.url("tree.tar.co"), "-o", out, "--stats"])
    #expect(result.status == 1, "\(result.stderr)")
    let expected = try await Self.expected(tar, in: directory)
    #expect(try Self.describe(out) == expected)
    #expect(server.log.count <= 12, "\(server.log.map { $0.range ?? "-" })")
  }

  @Test("a tree of 1,500 directories extracts under an open-file limit of 400 (directory descriptors are not all kept open)")
  func manyDirectoriesUnderALowFileLimit() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // A tile pyramid's shape: z/x/y.png, 1,500 x directories of one tile each.
    let made = try await CLI.shell(
      "for x in $(seq 1 1500); do mkdir -p src/7/$x && echo $x > src/7/$x/0.png; done && tar -cf tiles.tar -C src .",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let result = try await CLI.shell(
      "ulimit -n 400 && '\(CLI.executable.path)' extract tiles.tar -o out && '\(CLI.executable.path)' extract tiles.tar -o out --force",
      in: directory)
    #expect(result.status == 0, "\(result.stderr.suffix(600))")
    for x in [1, 256, 257, 1000, 1500] {
      let tile = directory.appendingPathComponent("out/7/\(x)/0.png")
      #expect(FileManager.default.contents(atPath: tile.path) == Data("\(x)\n".utf8), "\(tile.path)")
    }
  }

  @Test("the extract summary counts the directories it creates, those only implied by paths too")
  func impliedDirectoriesAreCounted() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // No directory members: 5 + 3 directories exist only in the files' paths.
    let made = try await CLI.shell(
      "set -e; for i in 1 2 3 4 5; do mkdir -p d$i; echo $i > d$i/f; done; mkdir -p a/b/c; echo c > a/b/c/f; tar -cf x.tar d*/f a/b/c/f",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let out = directory.appendingPathComponent("out").path
    let first = try await CLI.run(["extract", directory.appendingPathComponent("x.tar").path, "-o", out])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stderr.contains("extracted 6 files, 8 directories and 0 links (12 bytes) into \(out)"), "\(first.stderr)")
    // Again over the same tree: nothing is created this time.
    let again = try await CLI.run(["extract", directory.appendingPathComponent("x.tar").path, "-o", out, "--force"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("extracted 6 files, 0 directories and 0 links"), "\(again.stderr)")
  }

  @Test("a regular-file member named 'd/' (old tars' directory) is extracted as a directory, as GNU tar does")
  func regularMemberWithTrailingSlashIsADirectory() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // tarfile keeps typeflag '0' on 'd/' (it retypes only a NUL typeflag), as old tars wrote.
    let made = try await CLI.shell(
      """
      set -e; python3 - <<'PY'
      import io, tarfile
      with tarfile.open('v.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
          d = tarfile.TarInfo('d/'); d.type = tarfile.REGTYPE; d.mode = 0o750; d.mtime = 1700000000
          t.addfile(d)
          f = tarfile.TarInfo('d/f.txt'); f.size = 2; f.mtime = 1700000000
          t.addfile(f, io.BytesIO(b'hi'))
      PY
      mkdir gnu && tar -C gnu -xf v.tar
      """, in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let out = directory.appendingPathComponent("out").path
    let result = try await CLI.run(["extract", directory.appendingPathComponent("v.tar").path, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("extracted 1 file, 1 directory and 0 links (2 bytes)"), "\(result.stderr)")
    let got = try Self.describe(out)
    #expect(got["d"] == "dir 750", "\(got)")
    #expect(got == (try Self.describe(directory.appendingPathComponent("gnu").path)))
  }

  @Test("get names directories and other spellings: 'is a directory', did you mean './bin/tool'")
  func getMessages() async throws {
    let (_, _, archive) = try await Self.archive.value
    let spelled = try await CLI.run(["get", archive, "bin/tool"])
    #expect(spelled.status == 1)
    #expect(spelled.stderr == "cotar: 'bin/tool' is not in \(archive); did you mean './bin/tool'?\n", "\(spelled.stderr)")
    let directory = try await CLI.run(["get", archive, "./share/doc"])
    #expect(directory.status == 1)
    #expect(
      directory.stderr.contains("cotar: './share/doc' is a directory in \(archive); get reads files (use cotar extract"),
      "\(directory.stderr)")
  }
}
