import CotarTestSupport
import Foundation
import Testing

/// `get` and `extract` on a local tar with no index at all scan it once and index it in
/// memory, as `ls` lists it, with a note; a remote one and a damaged index are reported,
/// never scanned around.
@Suite("Tars without an index", .timeLimit(.minutes(5)))
struct PlainTarCLITests {
  /// The writers of the plain tars: GNU tar, bsdtar (when installed) and Python's tarfile.
  static let writers: [(name: String, command: String)] = [
    ("GNU tar", "tar -cf plain.tar -C src ."),
    ("bsdtar", "bsdtar -cf plain.tar -C src ."),
    ("Python tarfile", #"python3 -c "import tarfile; t = tarfile.open('plain.tar', 'w'); t.add('src', arcname='.'); t.close()""#),
  ]

  /// The writers whose tool is installed (`.ci/run` installs bsdtar).
  static let availableWriters = writers.filter { $0.name != "bsdtar" || ProcessRunner.isAvailable("bsdtar") }.map(\.name)

  @Test("get and extract read a local plain tar by scanning it once, with a note; a remote one is refused", arguments: availableWriters)
  func plainTar(writer: String) async throws {
    let command = try #require(Self.writers.first { $0.name == writer }?.command)
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell(
      "mkdir -p src/d/e && printf 'alpha\\n' > src/a.txt && head -c 300000 /dev/urandom > src/d/big.bin && printf 'deep' > src/d/e/c.txt && ln -s ../a.txt src/d/link && \(command)",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let tar = directory.appendingPathComponent("plain.tar").path

    let got = try await CLI.run(["get", tar, "./a.txt"])
    #expect(got.status == 0, "\(got.stderr)")
    #expect(got.stdoutText == "alpha\n")
    #expect(got.stderr.contains("has no index; scanning the whole tar"), "\(got.stderr)")
    let missing = try await CLI.run(["get", tar, "./nope"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("is not in"), "\(missing.stderr)")

    let out = directory.appendingPathComponent("out")
    let extracted = try await CLI.run(["extract", tar, "-o", out.path])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(extracted.stderr.components(separatedBy: "has no index").count == 2, "one scan: \(extracted.stderr)")
    for file in ["a.txt", "d/big.bin", "d/e/c.txt"] {
      let original = try Data(contentsOf: directory.appendingPathComponent("src/\(file)"))
      #expect(try Data(contentsOf: out.appendingPathComponent(file)) == original, "\(file)")
    }
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out.appendingPathComponent("d/link").path) == "../a.txt")

    // Over HTTP it is refused with advice, never downloaded whole behind the user's back.
    try await withRangeServer { server in
      try await server.putFile("plain.tar", path: tar)
      let remote = try await CLI.run(["get", server.url("plain.tar"), "./d/e/c.txt"])
      #expect(remote.status == 1)
      #expect(remote.stderr.contains("no Cotar index here"), "\(remote.stderr)")
      #expect(server.log.allSatisfy { $0.path != "/plain.tar" || $0.range != nil }, "a whole-object GET")
    }
  }

  @Test("get follows symbolic links (and hard links to them) in a tar without an index as with one (E3)")
  func symbolicLinksWithoutIndex() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // GNU tar: `h` is a hard link to the symbolic link `s`; `dl/g` reaches `d/g` through `dl -> d`.
    let made = try await CLI.shell(
      "echo F > f && ln -s f s && ln -P s h && mkdir d && echo G > d/g && ln -s d dl && tar -cf hk.tar f s h d dl && cp hk.tar indexed.tar",
      in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let plain = directory.appendingPathComponent("hk.tar").path
    let indexed = directory.appendingPathComponent("indexed.tar").path
    #expect(try await CLI.run(["index", indexed]).status == 0)

    for (path, followed, text) in [("s", "F\n", "f\n"), ("h", "F\n", "f\n"), ("dl/g", "G\n", "G\n")] {
      for tar in [plain, indexed] {
        let got = try await CLI.run(["get", tar, path])
        #expect(got.status == 0, "\(tar) \(path): \(got.stderr)")
        #expect(got.stdoutText == followed, "\(tar) \(path)")
        let link = try await CLI.run(["get", tar, path, "--no-follow"])
        #expect(link.status == 0, "\(tar) \(path): \(link.stderr)")
        #expect(link.stdoutText == text, "\(tar) \(path) --no-follow")
      }
    }
    // One scan per command: the note appears once.
    let scanned = try await CLI.run(["get", plain, "s"])
    #expect(scanned.stderr.components(separatedBy: "has no index").count == 2, "\(scanned.stderr)")

    // -o FILE and -o DIR (several paths) read the same bytes.
    let file = directory.appendingPathComponent("s.out").path
    let toFile = try await CLI.run(["get", plain, "h", "-o", file])
    #expect(toFile.status == 0, "\(toFile.stderr)")
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "F\n")
    let out = directory.appendingPathComponent("out")
    let toDirectory = try await CLI.run(["get", plain, "s", "h", "dl/g", "-o", out.path])
    #expect(toDirectory.status == 0, "\(toDirectory.stderr)")
    for (name, bytes) in [("s", "F\n"), ("h", "F\n"), ("dl/g", "G\n")] {
      #expect(try String(contentsOfFile: out.appendingPathComponent(name).path, encoding: .utf8) == bytes, "\(name)")
    }
    // A missing path is still reported as one, and a directory as a directory.
    let missing = try await CLI.run(["get", plain, "nope"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("'nope' is not in"), "\(missing.stderr)")
    let folder = try await CLI.run(["get", plain, "dl"])
    #expect(folder.status == 1)
    #expect(folder.stderr.contains("is a directory"), "\(folder.stderr)")
  }

  @Test("A .tar.co whose index is damaged is reported, not scanned; a given sidecar that is wrong too")
  func damagedIndexIsNotScanned() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let made = try await CLI.shell("mkdir src && printf 'x' > src/a.txt && tar -cf plain.tar -C src .", in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    let tar = directory.appendingPathComponent("plain.tar").path
    #expect(try await CLI.run(["create", tar, "-o", tar + ".co"]).status == 0)
    let damaged = try FileHandle(forUpdating: URL(fileURLWithPath: tar + ".co"))
    try damaged.seek(toOffset: try damaged.seekToEnd() - 8)
    try damaged.write(contentsOf: Data("XXXX".utf8))
    try damaged.close()
    let got = try await CLI.run(["get", tar + ".co", "./a.txt"])
    #expect(got.status == 1)
    #expect(got.stderr.contains("no Cotar index here"), "\(got.stderr)")
    #expect(!got.stderr.contains("scanning"), "\(got.stderr)")
    let wrongSidecar = try await CLI.run(["get", tar, "./a.txt", "--index", tar])
    #expect(wrongSidecar.status == 1)
    #expect(!wrongSidecar.stderr.contains("scanning"), "\(wrongSidecar.stderr)")
  }
}
