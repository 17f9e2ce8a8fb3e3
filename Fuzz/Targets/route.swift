// Fuzz target: the server's percent-decoding and routing (`PercentEncoding`, `Route`).
//
// Input: [archive-count selector] then request-path bytes.
//
// Invariants checked beyond "no crash":
// - decoding never grows the text, and text without `%` decodes to itself;
// - encoding any bytes as a URL path gives only RFC 3986 path characters and `%XX`, no `.` or
//   `..` segment, and decodes back to the same bytes;
// - `/v1/file/<encoded bytes>` routes to exactly those bytes (or is malformed for an empty
//   path or a NUL byte), and `/v1/<archive>/file/…` picks that archive;
// - routing an arbitrary path yields an archive index in range and entry paths without NUL.

let archiveNames: [(name: [UInt8], indexName: [UInt8]?)] = [
  (Array("a.tar.co".utf8), nil), (Array("b c.tar".utf8), Array("b c.tar.index".utf8)), (Array("%.tar".utf8), nil),
]

func isURLPathByte(_ byte: UInt8) -> Bool {
  switch byte {
  case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
  default: Array("-._~!$&'()*+,;=:@/%".utf8).contains(byte)
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoute(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let archives = Array(archiveNames.prefix(Int(input.byte()) % (archiveNames.count + 1)))
  let bytes = input.rest

  // Decoding arbitrary text.
  let text = String(decoding: bytes, as: UTF8.self)
  if let decoded = PercentEncoding.decode(text) {
    invariant(decoded.count <= text.utf8.count, "decoding grew \(text.utf8.count) bytes to \(decoded.count)")
    if !text.utf8.contains(UInt8(ascii: "%")) { invariant(decoded == Array(text.utf8), "text without % changed") }
  }

  // Encoding arbitrary bytes, and routing the encoded path.
  var encoded: [UInt8] = []
  PercentEncoding.appendEncodedPath(bytes, to: &encoded)
  invariant(encoded.allSatisfy(isURLPathByte), "encoded path has a raw byte: \(encoded)")
  for segment in encoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
    invariant(segment != [0x2E] && segment != [0x2E, 0x2E], "encoded path keeps a dot segment")
  }
  let encodedText = String(decoding: encoded, as: UTF8.self)
  invariant(PercentEncoding.decode(encodedText) == bytes, "encode/decode does not round-trip \(bytes)")
  if !archives.isEmpty {
    let route = Result { () throws(Route.Failure) -> Route in
      try Route(path: Substring("/v1/file/" + encodedText), archives: archives)
    }
    switch route {
    case .success(let found):
      invariant(found == .file(archive: 0, path: bytes), "/v1/file/\(encodedText) routed to \(found)")
    case .failure(let failure):
      invariant(bytes.isEmpty || bytes.contains(0), "/v1/file/\(encodedText) failed: \(failure)")
    }
    let last = archives.count - 1
    var named: [UInt8] = []
    PercentEncoding.appendEncodedPath(archives[last].name, to: &named)
    let prefix = "/v1/" + String(decoding: named, as: UTF8.self) + "/file/"
    if case .success(let found) = Result(catching: { () throws(Route.Failure) -> Route in
      try Route(path: Substring(prefix + encodedText), archives: archives)
    }) {
      invariant(found == .file(archive: last, path: bytes), "\(prefix)\(encodedText) routed to \(found)")
    }
  }

  // Routing arbitrary text.
  if let route = try? Route(path: Substring(text), archives: archives) {
    switch route {
    case .file(let archive, let path):
      invariant(archive >= 0 && archive < archives.count, "archive \(archive) out of range")
      invariant(!path.isEmpty && !path.contains(0), "bad entry path \(path)")
    case .list(let archive, let directory):
      invariant(archive >= 0 && archive < archives.count, "archive \(archive) out of range")
      invariant(!directory.contains(0), "NUL in listed directory")
    case .rawArchive(let archive), .rawIndex(let archive), .rawNames(let archive):
      invariant(archive >= 0 && archive < archives.count, "archive \(archive) out of range")
    case .health:
      invariant(text == "/health", "\(text) routed to health")
    }
  }
  return 0
}
