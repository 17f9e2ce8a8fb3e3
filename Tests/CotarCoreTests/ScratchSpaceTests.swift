import CotarTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The tests' scratch space cleans up after processes that could not: `swift test` runs that
/// crashed or were killed used to leave their files in `/tmp` until a CI disk was full.
@Suite("Test scratch space")
struct ScratchSpaceTests {
  @Test("This process's root is named by its pid, and new directories are made inside it")
  func rootAndDirectories() throws {
    #expect(ScratchSpace.root.lastPathComponent == "cotar-tests-\(getpid())")
    let directory = try ScratchSpace.directory("scratch-test")
    defer { try? FileManager.default.removeItem(at: directory) }
    var isDirectory: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue)
    #expect(directory.deletingLastPathComponent().path == ScratchSpace.root.path)
    let path = ScratchSpace.path("scratch-test", suffix: ".tar")
    #expect(path.hasPrefix(ScratchSpace.root.path + "/scratch-test-") && path.hasSuffix(".tar"))
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  @Test("A directory whose process is gone is swept; live processes' directories and other names stay")
  func sweep() throws {
    let base = try ScratchSpace.directory("sweep-base")
    defer { try? FileManager.default.removeItem(at: base) }
    let pidMax = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
    let deadPID = try #require(Int32(pidMax.trimmingCharacters(in: .whitespacesAndNewlines))) + 1
    let names = ["cotar-tests-\(deadPID)", "cotar-tests-\(getpid())", "cotar-tests-1", "cotar-tests-x", "other-\(deadPID)"]
    for name in names {
      let directory = base.appendingPathComponent(name)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      #expect(FileManager.default.createFile(atPath: directory.appendingPathComponent("file").path, contents: Data([1])))
    }
    ScratchSpace.sweepAbandoned(in: base)
    let left = try FileManager.default.contentsOfDirectory(atPath: base.path).sorted()
    #expect(left == names.dropFirst().sorted())
  }
}
