import CZlib
import CotarCore
import CotarServer
import CotarTestSupport
import Hummingbird
import Logging

/// The files of the standard test archive.
enum TestFiles {
  static let hello = Array("Hello, cotar server!\n".utf8)
  static let json = Array(#"{"a":1}"#.utf8)
  /// 200 KiB of patterned bytes: larger than the 64 KiB chunk, so it is streamed.
  static let big: [UInt8] = (0..<(200 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
  static let tileText = Array(String(repeating: "vector tile payload ", count: 500).utf8)
  static let tileGzip = gzip(tileText)
  static let absolute = Array("stored with a leading slash".utf8)
  static let nonUTF8Name: [UInt8] = Array("odd".utf8) + [0xFF] + Array(".bin".utf8)

  static func tar() -> [UInt8] {
    var tar = TestTar()
    tar.add("a.txt", hello)
    tar.add("dir/b.json", json)
    tar.add("dir/sub/c.txt", hello)
    tar.add("big.bin", big)
    tar.add("tiles/0/0/0.pbf.gz", tileGzip)
    tar.add("fake.gz", Array("not gzip".utf8))
    tar.add("/abs.txt", absolute)
    tar.add(nonUTF8Name, [1, 2, 3])
    tar.add("sp ace.txt", hello)
    tar.add("./dot.txt", json)
    tar.add("empty.txt", [])
    return tar.finished
  }
}

/// Compresses `data` as one gzip member with zlib.
func gzip(_ data: [UInt8]) -> [UInt8] {
  var stream = z_stream()
  guard deflateInit2_(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
  else { return [] }
  defer { deflateEnd(&stream) }
  var input = data
  var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(data.count))) + 64)
  let produced = input.withUnsafeMutableBufferPointer { inBuffer in
    output.withUnsafeMutableBufferPointer { outBuffer in
      stream.next_in = inBuffer.baseAddress
      stream.avail_in = UInt32(inBuffer.count)
      stream.next_out = outBuffer.baseAddress
      stream.avail_out = UInt32(outBuffer.count)
      _ = deflate(&stream, Z_FINISH)
      return outBuffer.count - Int(stream.avail_out)
    }
  }
  return Array(output.prefix(produced))
}

/// Makes served archives and applications for tests.
enum TestServer {
  static let lastModified = HTTPDate(secondsSince1970: 1_700_000_000)

  /// The standard archive as a `.tar.co` in memory.
  static func tarCo(name: String = "test.tar.co", listing: Bool = true) async throws -> ServedArchive {
    let tar = TestFiles.tar()
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    return try await ServedArchive.open(
      name: name, tar: MemorySource(tar + index, identity: name), version: "v1", lastModified: lastModified,
      buildListing: listing)
  }

  /// A split `.tar` + `.tar.index` with one file, `other.txt`.
  static func split(name: String = "second.tar") async throws -> ServedArchive {
    var builder = TestTar()
    builder.add("other.txt", Array("second archive\n".utf8))
    builder.add("a.txt", Array("a from the second archive\n".utf8))
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    return try await ServedArchive.open(
      name: name, tar: MemorySource(tar, identity: name), sidecar: MemorySource(index, identity: name + ".index"),
      lastModified: lastModified)
  }

  /// The tests' server settings. The idle and request-head timeouts are 5 minutes, not the
  /// 60 and 10 seconds of `cotar serve`: on a loaded 2-core machine a test paused between two
  /// pieces of a head (a `Task.sleep` of 50 ms) can resume seconds late, and the server then
  /// rightly cuts the connection under the test. Tests of the timeouts set their own.
  static func configuration(
    cors: [String] = [], listing: Bool = true, accessLog: Bool = false
  ) -> CotarServerConfiguration {
    var configuration = CotarServerConfiguration(
      host: "127.0.0.1", port: 0, cacheControl: "public, max-age=60", corsOrigins: cors, listingEnabled: listing,
      accessLog: accessLog)
    configuration.limits.idleTimeout = .seconds(300)
    configuration.limits.requestHeadTimeout = .seconds(300)
    return configuration
  }

  static func application(
    _ archives: [ServedArchive], configuration: CotarServerConfiguration = configuration()
  ) throws -> Application<CotarResponder> {
    try server(archives, configuration: configuration).makeApplication()
  }

  /// A server for `archives` that logs warnings only; keep it to read its responder's counters.
  static func server(
    _ archives: [ServedArchive], configuration: CotarServerConfiguration = configuration()
  ) throws -> CotarServer {
    var logger = Logger(label: "cotar.serve.test")
    logger.logLevel = .warning
    return try CotarServer(archives: archives, configuration: configuration, logger: logger)
  }
}
