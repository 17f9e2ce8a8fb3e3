import CotarCore
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

@Suite("System calls and their errors")
struct SyscallTests {
  @Test("A missing file is .notFound with an ENOENT cause naming the call")
  func missingFileIsNotFound() throws {
    let path = ScratchSpace.path("cotar-missing")
    let error = try #require(throws: CotarError.self) { try FileSource(path: path) }
    #expect(error.code == .notFound)
    let cause = try #require(error.systemCallError)
    #expect(cause.call == "open")
    #expect(cause.errno == ENOENT)
    #expect(cause.isNotFound)
    #expect(!cause.isPermissionDenied)
    #expect(error.description.contains("ENOENT"))
    #expect(error.description.contains(path))
  }

  @Test("A path through a regular file is ENOTDIR, not 'not found'")
  func pathThroughAFileIsNotADirectory() throws {
    let file = ScratchSpace.path("cotar-file")
    _ = FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3]))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let error = try #require(throws: CotarError.self) { try FileSource(path: file + "/child") }
    #expect(error.systemCallError?.errno == ENOTDIR)
    #expect(error.systemCallError?.isNotFound == false)
  }

  @Test("A directory is refused as 'not a regular file'")
  func directoryIsRefused() throws {
    let error = try #require(throws: CotarError.self) { try FileSource(path: NSTemporaryDirectory()) }
    #expect(error.code == .io)
    #expect(error.message == "not a regular file: it is a directory")
    #expect(error.systemCallError == nil)
  }

  @Test("A closed FileSource refuses reads with .invalidArgument")
  func closedSourceRefusesReads() async throws {
    let file = ScratchSpace.path("cotar-close")
    _ = FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3, 4]))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let source = try FileSource(path: file)
    #expect(try await source.read(1..<3) == [2, 3])
    source.close()
    source.close()
    let error = await #expect(throws: CotarError.self) { _ = try await source.read(0..<1) }
    #expect(error?.code == .invalidArgument)
  }

  @Test("Reading past the end is .truncated at the end offset")
  func readingPastTheEndIsTruncated() async throws {
    let file = ScratchSpace.path("cotar-short")
    _ = FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3, 4]))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let source = try FileSource(path: file)
    let error = await #expect(throws: CotarError.self) { _ = try await source.read(2..<10) }
    #expect(error?.code == .truncated)
    #expect(error?.offset == 4)
  }

  @Test("A system call error describes itself as call, text and symbolic code")
  func systemCallErrorDescription() {
    let error = SystemCallError(call: "pread", errno: EIO)
    #expect(error.description.hasPrefix("pread: "))
    #expect(error.description.hasSuffix("(EIO)"))
    #expect(SystemCallError(call: "open", errno: EACCES).isPermissionDenied)
  }
}
