import CotarTestSupport
import Foundation
import Testing

/// `cotar get` of paths that go through a directory that is a symbolic link (`f2 -> dl/g`
/// with `dl -> d`): the bytes `cat` reads after `tar -x`, loops and escapes refused by name.
@Suite("cotar get: symbolic links through symlinked directories", .timeLimit(.minutes(5)))
struct SymlinkPathCLITests {
  @Test("get f2 -> dl/g and dl/g with dl -> d read d/g, as cat does after tar -x; loops and escapes are refused")
  func throughSymlinkedDirectory() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let script = """
      set -e
      mkdir -p src/d/sub && cd src
      printf gee > d/g
      ln -s d dl; ln -s dl/g f2; ln -s f2 f3; ln -s ./dl/sub/../g f4
      ln -s loop1 loop2; ln -s loop2 loop1; ln -s ldir/x ldir
      ln -s ../../x esc; ln -s dl/../../x esc2
      tar -cf ../s.tar d dl f2 f3 f4 loop1 loop2 ldir esc esc2
      cd .. && mkdir gnu && tar -xf s.tar -C gnu && cat gnu/f2 gnu/dl/g gnu/f4
      """
    let made = try await CLI.shell(script, in: directory)
    try #require(made.status == 0, "\(made.stderr)")
    #expect(made.stdoutText == "geegeegee", "what cat reads after tar -x")
    #expect(try await CLI.run(["create", "s.tar"], in: directory).status == 0)
    for archive in ["s.tar.co"] {
      for path in ["f2", "f3", "f4", "dl/g"] {
        let got = try await CLI.run(["get", archive, path], in: directory)
        #expect(got.status == 0 && got.stdoutText == "gee", "\(path): \(got.stderr)")
      }
      #expect(try await CLI.run(["get", archive, "f2", "--no-follow"], in: directory).stdoutText == "dl/g\n")
      for (path, message) in [
        ("loop1", "more than 40 symbolic links"), ("ldir", "more than 40 symbolic links"),
        ("esc", "outside the archive root"), ("esc2", "outside the archive root"),
        ("dl/sub", "is a directory"), ("dl", "is a directory"), ("dl/nope", "'dl/nope' is not in"),
      ] {
        let got = try await CLI.run(["get", archive, path], in: directory)
        #expect(got.status != 0 && got.stdoutText.isEmpty, "\(path)")
        #expect(got.stderr.contains(message), "\(path): \(got.stderr)")
      }
    }
    // Over HTTP, through the same table.
    try await withRangeServer { server in
      try await server.putFile("s.tar.co", path: directory.appendingPathComponent("s.tar.co").path)
      for path in ["f2", "dl/g"] {
        let got = try await CLI.run(["get", server.url("s.tar.co"), path])
        #expect(got.status == 0 && got.stdoutText == "gee", "\(path): \(got.stderr)")
      }
    }
    // Several paths at once (batch mode) resolve the same way.
    let out = directory.appendingPathComponent("out").path
    let batch = try await CLI.run(["get", "s.tar.co", "f2", "dl/g", "-o", out], in: directory)
    #expect(batch.status == 0, "\(batch.stderr)")
    #expect(try String(contentsOfFile: out + "/dl/g", encoding: .utf8) == "gee")
  }
}
