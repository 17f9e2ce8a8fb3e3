import CotarTestSupport
import Foundation
import Testing

/// A file replaced later in the archive by a symlink: `get` must not return the file's bytes.
@Suite("cotar: a path replaced by a later member of another kind")
struct ShadowedPathCLITests {
  static let maker = #"""
    import tarfile, io, sys
    with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
        for a in sys.argv[2:]:
            k, n, v = (a.split(':', 2) + [''])[:3]; ti = tarfile.TarInfo(n); ti.mtime = 1
            ti.type = {'f': tarfile.REGTYPE, 'l': tarfile.LNKTYPE, 's': tarfile.SYMTYPE, 'd': tarfile.DIRTYPE}[k]
            if k == 'f': ti.size = len(v); t.addfile(ti, io.BytesIO(v.encode()))
            else: ti.linkname = v; t.addfile(ti)
    """#

  @Test("create then get: a symlink after a file of the same path is followed, not the stale file")
  func createThenGet() async throws {
    try #require(ProcessRunner.isAvailable("python3"))
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Self.maker.write(to: directory.appendingPathComponent("mk.py"), atomically: true, encoding: .utf8)
    #expect(try await CLI.shell("python3 mk.py 1.tar f:x:stale f:t:new s:x:t", in: directory).status == 0)
    #expect(try await CLI.run(["create", "1.tar"], in: directory).status == 0)
    let got = try await CLI.run(["get", "1.tar.co", "x"], in: directory)
    #expect(got.status == 0, "\(got.stderr)")
    #expect(got.stdoutText == "new")
    #expect(try await CLI.run(["get", "1.tar.co", "x", "--no-follow"], in: directory).stdoutText == "t\n")
    #expect(try await CLI.run(["validate", "1.tar.co"], in: directory).status == 0)
    // Without a name table nothing says where x points: get refuses rather than print old bytes.
    #expect(try await CLI.run(["create", "1.tar", "-o", "bare.tar.co", "--no-names"], in: directory).status == 0)
    let bare = try await CLI.run(["get", "bare.tar.co", "x"], in: directory)
    #expect(bare.status != 0)
    #expect(bare.stdoutText.isEmpty)
  }

  @Test("tar, then append the path as a symlink: get follows the symlink")
  func appendThenGet() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("original".utf8).write(to: directory.appendingPathComponent("f"))
    try Data("target".utf8).write(to: directory.appendingPathComponent("t"))
    #expect(try await CLI.run(["tar", "x.tar.co", "f"], in: directory).status == 0)
    #expect(try await CLI.run(["get", "x.tar.co", "f"], in: directory).stdoutText == "original")
    try FileManager.default.removeItem(at: directory.appendingPathComponent("f"))
    try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("f").path, withDestinationPath: "t")
    let appended = try await CLI.run(["append", "x.tar.co", "f", "t"], in: directory)
    #expect(appended.status == 0, "\(appended.stderr)")
    let got = try await CLI.run(["get", "x.tar.co", "f"], in: directory)
    #expect(got.stdoutText == "target", "\(got.stderr)")
    #expect(try await CLI.run(["validate", "x.tar.co"], in: directory).status == 0)
  }
}
