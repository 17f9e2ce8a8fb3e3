import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// What the source does when the server does not follow RFC 9110, fails, or changes the file.
@Suite(.timeLimit(.minutes(5))) struct MisbehaviourTests {
  @Test func ignoredRangeOnSmallObjectIsServedFromOneDownload() async throws {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    server.misbehave { $0.ignoreRange = true }
    let cotar = try await Cotar.open(source)
    for file in archive.files.prefix(20) { #expect(try await cotar.read(file.path) == file.bytes) }
    #expect(server.requestCount == 1)
    #expect(server.log.first?.status == 200)
  }

  @Test func ignoredRangeOnLargeObjectFails() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined, configuration: quickConfiguration(unranged: 1 << 20))
    defer { Task { await server.stop() } }
    server.misbehave { $0.ignoreRange = true }
    let error = await cotarError { _ = try await Cotar.open(source) }
    #expect(error?.code == .rangeNotHonoured)
    #expect(error?.description.contains("server does not support range requests") == true)
    #expect(server.requestCount == 1)
  }

  @Test func wrongContentRangeIsRejected() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    server.misbehave { $0.wrongContentRange = true }
    let error = await cotarError { _ = try await cotar.read(archive.files[3].path) }
    #expect(error?.code == .rangeNotHonoured)
    #expect(error?.source == server.url("big.tar.co"))
  }

  @Test func mangledSuffixRangeFallsBackToExplicitRange() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    server.misbehave { $0.mangleSuffix = true }
    let cotar = try await Cotar.open(source)
    let file = archive.files[2000]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount <= 4)  // mangled suffix, explicit tail, window (unless resident), data
    let total = archive.combined.count
    #expect(server.log[1].range == "bytes=\(total - 65536)-\(total - 1)")
  }

  @Test func archiveSmallerThanSpeculativeReadWith416() async throws {
    let archive = try await TestArchive.make(count: 5)
    #expect(archive.combined.count < 64 << 10)
    let (server, source) = try await serve("tiny.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    server.misbehave { $0.suffixLargerThanFileGives416 = true }
    let cotar = try await Cotar.open(source)
    #expect(server.log.map(\.status) == [416, 206])
    for file in archive.files { #expect(try await cotar.read(file.path) == file.bytes) }
  }

  @Test func archiveSmallerThanSpeculativeReadWholeFileSuffix() async throws {
    let archive = try await TestArchive.make(count: 5)
    let (server, source) = try await serve("tiny.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    #expect(server.requestCount == 1)
    #expect(try await source.size() == UInt64(archive.combined.count))
    let file = archive.files[4]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(server.requestCount == 1)  // the data came with the whole object
  }

  @Test func transient503sAreRetried() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    server.misbehave {
      $0.failNext = 2
      $0.sendRetryAfter = true
    }
    let cotar = try await Cotar.open(source)
    server.misbehave { $0.throttleNext = 1 }
    let file = archive.files[99]
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(source.statistics.retries == 3)
    #expect(server.requestCount == source.statistics.requests)
    #expect(server.log.filter { $0.status == 503 }.count == 2)
    #expect(server.log.filter { $0.status == 429 }.count == 1)
  }

  @Test func retriesAreBounded() async throws {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined, configuration: quickConfiguration(attempts: 3))
    defer { Task { await server.stop() } }
    server.misbehave { $0.failNext = 100 }
    let error = await cotarError { _ = try await Cotar.open(source) }
    #expect(error?.code == .httpStatus)
    #expect(error?.httpStatus?.status == 503)
    #expect(error?.description.contains("after 3 tries (HTTP 503 Service Unavailable)") == true)
    #expect(server.requestCount == 3)
  }

  @Test func connectionClosedMidBodyIsRetried() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    server.misbehave { $0.closeMidBodyNext = 2 }
    let file = try #require(archive.files.first { $0.bytes.count > 600 })
    #expect(try await cotar.read(file.path) == file.bytes)
    #expect(source.statistics.retries == 2)
  }

  @Test func replacedArchiveIsDetectedWithIfMatch() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    #expect(source.pinnedETag != nil)
    server.put("big.tar.co", try await Fixtures.small.value.combined)
    let error = await cotarError { _ = try await cotar.read(archive.files[1].path) }
    #expect(error?.code == .sourceChanged)
    #expect(server.log.last?.status == 412)
    #expect(server.log.last?.ifMatch == source.pinnedETag)
  }

  @Test func replacedArchiveIsDetectedWhenServerIgnoresIfMatch() async throws {
    let archive = try await Fixtures.large.value
    let (server, source) = try await serve("big.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    server.misbehave { $0.ignoreIfMatch = true }
    let cotar = try await Cotar.open(source)
    var changed = archive.combined
    changed[0] ^= 0xFF
    server.put("big.tar.co", changed)
    let error = await cotarError { _ = try await cotar.read(archive.files[1].path) }
    #expect(error?.code == .sourceChanged)
    #expect(error?.message.contains("ETag") == true)
  }

  @Test func weakETagsAreNotPinned() async throws {
    let archive = try await Fixtures.small.value
    let (server, source) = try await serve("small.tar.co", archive.combined)
    defer { Task { await server.stop() } }
    server.misbehave { $0.weakETags = true }
    let cotar = try await Cotar.open(source)
    #expect(try await cotar.read(archive.files[0].path) == archive.files[0].bytes)
    #expect(source.pinnedETag == nil)
    #expect(server.log.allSatisfy { $0.ifMatch == nil })
  }

  @Test func notFoundNamesTheURLWithoutCredentials() async throws {
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    let source = try HTTPRangeSource(url: "http://reader:hunter2@127.0.0.1:\(server.port)/missing.tar.co?token=s3cret")
    let error = await cotarError { _ = try await Cotar.open(source) }
    #expect(error?.code == .notFound)
    let text = error?.description ?? ""
    #expect(text.contains("404"))
    #expect(text.contains("http://127.0.0.1:\(server.port)/missing.tar.co"))
    #expect(!text.contains("hunter2") && !text.contains("s3cret") && !text.contains("reader"))
    #expect(server.requestCount == 1)
  }

  @Test func customHeadersAreSentAndDenialIsClear() async throws {
    let archive = try await Fixtures.small.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    server.misbehave { $0.requiredAuthorization = "Bearer letmein" }
    let denied = try HTTPRangeSource(url: server.url("a.tar.co"), configuration: quickConfiguration())
    let error = await cotarError { _ = try await Cotar.open(denied) }
    #expect(error?.code == .httpStatus)
    #expect(error?.httpStatus?.status == 401)
    var configuration = quickConfiguration()
    configuration.headers["Authorization"] = "Bearer letmein"
    let allowed = try HTTPRangeSource(url: server.url("a.tar.co"), configuration: configuration)
    let cotar = try await Cotar.open(allowed)
    #expect(try await cotar.read(archive.files[5].path) == archive.files[5].bytes)
    #expect(server.log.last?.authorization == "Bearer letmein")
  }

  @Test func credentialsInTheURLAreSentAsBasicAuthentication() async throws {
    let archive = try await Fixtures.small.value
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    server.misbehave { $0.requiredAuthorization = "Basic dXNlcjpwQHNzOndvcmQ=" }  // user:p@ss:word
    let plain = server.url("a.tar.co")
    let withCredentials = "http://user:p%40ss%3Aword@" + plain.dropFirst("http://".count)
    let source = try HTTPRangeSource(url: withCredentials, configuration: quickConfiguration())
    #expect(!source.identity.contains("word"))
    let cotar = try await Cotar.open(source)
    #expect(try await cotar.read(archive.files[3].path) == archive.files[3].bytes)
    #expect(server.log.allSatisfy { $0.authorization == "Basic dXNlcjpwQHNzOndvcmQ=" })
    // An explicit Authorization header wins over the URL's user information.
    var configuration = quickConfiguration()
    configuration.headers["Authorization"] = "Bearer other"
    let explicit = try HTTPRangeSource(url: withCredentials, configuration: configuration)
    let error = await cotarError { _ = try await Cotar.open(explicit) }
    #expect(error?.httpStatus?.status == 401)
    #expect(server.log.last?.authorization == "Bearer other")
  }

  @Test func stalledRequestTimesOutAndIsRetried() async throws {
    let archive = try await Fixtures.small.value
    var configuration = quickConfiguration(attempts: 2)
    configuration.requestTimeout = .seconds(15)  // generous: the stall is endless, and a loaded machine must still answer the retry within it
    let (server, source) = try await serve("small.tar.co", archive.combined, configuration: configuration)
    defer { Task { await server.stop() } }
    server.misbehave { $0.stallNext = 1 }
    let cotar = try await Cotar.open(source)
    #expect(try await cotar.read(archive.files[9].path) == archive.files[9].bytes)
    #expect(source.statistics.retries == 1)
    server.misbehave { $0.stallNext = 2 }
    let error = await cotarError { _ = try await source.read(0..<10) }
    #expect(error?.code == .io)
  }

  @Test func readsPastTheEndAreTruncatedErrors() async throws {
    let (server, source) = try await serve("blob", Array(repeating: 7, count: 1000))
    defer { Task { await server.stop() } }
    #expect(try await source.read(990..<1000) == Array(repeating: 7, count: 10))
    let error = await cotarError { _ = try await source.read(990..<1010) }
    #expect(error?.code == .truncated)
    let beyond = await cotarError { _ = try await source.read(2000..<2010) }
    #expect(beyond?.code == .truncated)
  }
}
