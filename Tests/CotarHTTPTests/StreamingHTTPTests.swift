import CotarCore
import CotarHTTP
import CotarTestSupport
import Testing

/// Streaming a large entry over real HTTP: parallel range parts, written in order, every part
/// pinned to one version of the object.
@Suite("Streaming over HTTP", .timeLimit(.minutes(5)))
struct StreamingHTTPTests {
  /// An archive with one 9 MiB entry between small files, as a `.tar.co`.
  static let archive = Task { () throws -> (combined: [UInt8], big: [UInt8]) in
    var generator = SplitMix64(seed: 1919)
    var big = [UInt8](repeating: 0, count: 9 << 20)
    for index in stride(from: 0, to: big.count, by: 8) {
      let word = generator.next()
      for byte in 0..<8 { big[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
    }
    let tar = TarBytes.make([("a.txt", Array("a".utf8)), ("big.bin", big), ("z.txt", Array("z".utf8))])
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar))
    return (tar + built.index.bytes, big)
  }

  static func combined() async throws -> (combined: [UInt8], big: [UInt8]) { try await archive.value }

  @Test("A 9 MiB entry comes as parallel parts, in order, exact, each request pinned with If-Match")
  func parallelParts() async throws {
    let (combined, big) = try await Self.combined()
    let (server, source) = try await serve("big.tar.co", combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let entry = try #require(try await cotar.entry("big.bin"))
    server.resetLog()
    let options = StreamOptions(chunkSize: 256 << 10, partSize: 2 << 20, partsInFlight: 4)
    var received: [UInt8] = []
    var chunkSizes: [Int] = []
    for try await chunk in cotar.chunks(of: entry, options: options) {
      received += chunk
      chunkSizes.append(chunk.count)
    }
    #expect(received == big)
    let plan = options.plan(entry.range, local: false)
    #expect(chunkSizes == plan.map(\.count))
    #expect(chunkSizes.max() == 2 << 20)
    // A part reaching into the suffix read at open asks only for the bytes before it.
    let kept = UInt64(combined.count - (64 << 10))
    let asked = plan.filter { $0.lowerBound < kept }.map { "bytes=\($0.lowerBound)-\(min($0.upperBound, kept) - 1)" }
    let log = server.log
    #expect(log.count == asked.count)
    #expect(Set(log.compactMap(\.range)) == Set(asked))
    #expect(log.allSatisfy { $0.ifMatch != nil && $0.status == 206 })
  }

  @Test("The object replaced mid-stream ends the stream with .sourceChanged, never mixing versions")
  func replacedMidStream() async throws {
    let (combined, big) = try await Self.combined()
    let (server, source) = try await serve("big.tar.co", combined)
    defer { Task { await server.stop() } }
    let cotar = try await Cotar.open(source)
    let entry = try #require(try await cotar.entry("big.bin"))
    // The same size, other bytes: only the ETag tells the versions apart.
    let other = combined.map { $0 ^ 0x5A }
    let options = StreamOptions(chunkSize: 128 << 10, partSize: 512 << 10, partsInFlight: 2)
    var received: [UInt8] = []
    let error = await cotarError {
      for try await chunk in cotar.chunks(of: entry, options: options) {
        if received.isEmpty { server.put("big.tar.co", other) }
        received += chunk
      }
    }
    #expect(error?.code == .sourceChanged)
    #expect(received.count < big.count)
    #expect(received == Array(big.prefix(received.count)))
  }
}
