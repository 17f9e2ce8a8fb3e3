import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed data read of an entry names the entry and the byte offset, and keeps the cause
/// (the HTTP status, the transport failure) — whatever API read it.
@Suite(.timeLimit(.minutes(5))) struct EntryReadErrorTests {
  /// An archive served, opened, and the server then failing every data request with 503.
  private func failingArchive(
    _ change: @escaping @Sendable (inout RangeServer.Misbehaviour) -> Void = { $0.failNext = 1000 }
  ) async throws -> (RangeServer, Cotar, TestArchive) {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined, configuration: quickConfiguration(attempts: 2))
    let cotar = try await Cotar.open(source)
    server.misbehave(change)
    return (server, cotar, archive)
  }

  @Test func readOfAPathNamesTheEntryTheOffsetAndTheStatus() async throws {
    let (server, cotar, archive) = try await failingArchive()
    defer { Task { await server.stop() } }
    let file = archive.files[7]
    let entry = try #require(try await cotar.entry(file.path))
    let error = await cotarError { _ = try await cotar.read(file.path) }
    #expect(error?.code == .httpStatus)
    #expect(error?.httpStatus?.status == 503)
    #expect(error?.path == file.path)
    #expect(error?.offset == entry.offset)
    #expect(error?.source == server.url("small.tar.co"))
    #expect(
      error?.description
        == "\(server.url("small.tar.co")), entry '\(file.path)', byte \(entry.offset): the server failed after 2 tries (HTTP 503 Service Unavailable)"
    )
  }

  @Test func readOfALocatedEntryNamesTheOffset() async throws {
    let (server, cotar, archive) = try await failingArchive()
    defer { Task { await server.stop() } }
    let entry = try #require(try await cotar.entry(archive.files[3].path))
    let error = await cotarError { _ = try await cotar.read(entry) }
    #expect(error?.code == .httpStatus)
    #expect(error?.offset == entry.offset)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(entry.size), alignment: 8)
    defer { buffer.deallocate() }
    let intoError = await cotarError { _ = try await cotar.read(archive.files[3].path, into: buffer) }
    #expect(intoError?.path == archive.files[3].path)
    #expect(intoError?.offset == entry.offset)
  }

  @Test func streamedReadNamesTheEntryAndTheOffset() async throws {
    let (server, cotar, archive) = try await failingArchive()
    defer { Task { await server.stop() } }
    let file = archive.files[11]
    let entry = try #require(try await cotar.entry(file.path))
    let chunks = try #require(try await cotar.chunks(of: file.path))
    let error = await cotarError { for try await _ in chunks {} }
    #expect(error?.code == .httpStatus)
    #expect(error?.path == file.path)
    #expect(error?.offset == entry.offset)
    let descriptor = open("/dev/null", O_WRONLY)
    defer { close(descriptor) }
    let copyError = await cotarError { _ = try await cotar.read(file.path, toFileDescriptor: descriptor) }
    #expect(copyError?.path == file.path)
    #expect(copyError?.offset == entry.offset)
    #expect(copyError?.httpStatus?.status == 503)
  }

  @Test func batchReadNamesTheEntryOfTheFailedRead() async throws {
    let (server, cotar, archive) = try await failingArchive()
    defer { Task { await server.stop() } }
    let files = [archive.files[20], archive.files[200]]
    let error = await cotarError { _ = try await cotar.read(paths: files.map(\.path)) }
    #expect(error?.code == .httpStatus)
    let named = try #require(files.first { $0.path == error?.path })
    #expect(error?.offset == (try await cotar.entry(named.path))?.offset)
  }

  @Test func connectionClosedMidBodyAfterRetriesNamesTheEntry() async throws {
    let (server, cotar, archive) = try await failingArchive { $0.closeMidBodyNext = 1000 }
    defer { Task { await server.stop() } }
    let file = try #require(archive.files.first { $0.bytes.count > 600 })
    let entry = try #require(try await cotar.entry(file.path))
    let error = await cotarError { _ = try await cotar.read(file.path) }
    #expect(error?.code == .io || error?.code == .truncated)
    #expect(error?.path == file.path)
    #expect(error.map { entry.range.contains($0.offset ?? .max) } == true)
    #expect(error?.message.hasSuffix("after 2 tries") == true)
  }
}
