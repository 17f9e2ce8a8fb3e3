import CZlib
import CotarCore
import CotarServer
import Hummingbird
import Logging

/// Builds ustar archives in memory for the server tests.
struct TestTarBuilder {
  private(set) var bytes: [UInt8] = []

  /// Appends a regular file (name ≤ 100 bytes).
  mutating func add(_ name: [UInt8], _ data: [UInt8]) {
    var header = [UInt8](repeating: 0, count: 512)
    header.replaceSubrange(0..<name.count, with: name)
    put(octal: 0o644, width: 8, at: 100, in: &header)
    put(octal: 0, width: 8, at: 108, in: &header)
    put(octal: 0, width: 8, at: 116, in: &header)
    put(octal: UInt64(data.count), width: 12, at: 124, in: &header)
    put(octal: 0, width: 12, at: 136, in: &header)
    header[156] = UInt8(ascii: "0")
    header.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
    header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    let sum = header.reduce(0) { $0 + Int($1) }
    put(octal: UInt64(sum), width: 7, at: 148, in: &header)
    bytes += header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
  }

  mutating func add(_ name: String, _ data: [UInt8]) { add(Array(name.utf8), data) }

  /// The archive with its end-of-archive blocks.
  var finished: [UInt8] { bytes + [UInt8](repeating: 0, count: 1024) }

  private func put(octal value: UInt64, width: Int, at offset: Int, in header: inout [UInt8]) {
    let digits = Array(String(value, radix: 8).utf8)
    let padded = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - 1 - digits.count)) + digits
    header.replaceSubrange(offset..<(offset + padded.count), with: padded)
    header[offset + padded.count] = 0
  }
}

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
    var tar = TestTarBuilder()
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
    var builder = TestTarBuilder()
    builder.add("other.txt", Array("second archive\n".utf8))
    builder.add("a.txt", Array("a from the second archive\n".utf8))
    let tar = builder.finished
    let index = try await CotarIndexBuilder.build(tar: MemorySource(tar)).index.bytes
    return try await ServedArchive.open(
      name: name, tar: MemorySource(tar, identity: name), sidecar: MemorySource(index, identity: name + ".index"),
      lastModified: lastModified)
  }

  static func configuration(
    cors: [String] = [], listing: Bool = true, accessLog: Bool = false
  ) -> CotarServerConfiguration {
    CotarServerConfiguration(
      host: "127.0.0.1", port: 0, cacheControl: "public, max-age=60", corsOrigins: cors, listingEnabled: listing,
      accessLog: accessLog)
  }

  static func application(
    _ archives: [ServedArchive], configuration: CotarServerConfiguration = configuration()
  ) throws -> Application<CotarResponder> {
    var logger = Logger(label: "cotar.serve.test")
    logger.logLevel = .warning
    return try CotarServer(archives: archives, configuration: configuration, logger: logger).makeApplication()
  }
}
