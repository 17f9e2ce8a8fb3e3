// Fuzz target: the fast path's strict request-head scan (`RawRequestHead`, CotarServer).
//
// Input: request bytes as they arrive on a connection.
//
// Invariants checked beyond "no crash":
// - a complete head (`fast` or `general`) ends with CRLF CRLF inside the input and within the
//   length limit, starts with `GET ` or `HEAD `, and contains no bare CR or LF, no NUL and no
//   `Content-Length` or `Transfer-Encoding` field (bodies go to the decoder);
// - a `fast` head's target is the request line's target: origin-form visible ASCII;
// - the scan depends only on the head: the head's own bytes scan the same, and every strict
//   prefix of them scans as `incomplete`;
// - `undecodable` and `incomplete` are stable: input that scans as `undecodable` stays so
//   when bytes are appended;
// - `targetTooLong` means a `GET` or `HEAD` whose origin-form target of visible ASCII runs past
//   the target limit without a space, and it stays so when bytes are appended.

func scan(_ bytes: ArraySlice<UInt8>) -> RawRequestHead.Scan {
  bytes.withUnsafeBytes { RawRequestHead.scan($0) }
}

func lowercased(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
  bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
}

func checkComplete(_ input: ArraySlice<UInt8>, length: Int, result: RawRequestHead.Scan) {
  invariant(length >= 18 && length <= input.count, "head length \(length) outside the input of \(input.count)")
  invariant(length <= RawRequestHead.maximumLength, "head length \(length) over the limit")
  let head = input.prefix(length)
  invariant(head.suffix(4).elementsEqual([13, 10, 13, 10]), "head does not end with CRLF CRLF")
  invariant(head.starts(with: Array("GET ".utf8)) || head.starts(with: Array("HEAD ".utf8)), "head is not GET or HEAD")
  invariant(!head.contains(0), "head has a NUL")
  for (offset, byte) in head.enumerated() {
    let position = head.startIndex + offset
    if byte == 13 { invariant(position + 1 < head.endIndex && head[position + 1] == 10, "bare CR at \(offset)") }
    if byte == 10 { invariant(position > head.startIndex && head[position - 1] == 13, "bare LF at \(offset)") }
  }
  let lines = lowercased(head).split(separator: 10)
  for line in lines.dropFirst() {
    invariant(!line.starts(with: Array("content-length:".utf8)), "a Content-Length head was accepted")
    invariant(!line.starts(with: Array("transfer-encoding:".utf8)), "a Transfer-Encoding head was accepted")
  }
  if case .fast(let parsed) = result {
    let requestLine = head.prefix { $0 != 13 }
    let parts = requestLine.split(separator: 32, omittingEmptySubsequences: false)
    invariant(parts.count == 3, "request line has \(parts.count) parts")
    invariant(Array(parts[1]) == Array(parsed.target.utf8), "target differs from the request line's")
    invariant(parsed.target.first == "/", "target is not origin-form")
    invariant(parsed.target.utf8.allSatisfy { $0 > 32 && $0 < 127 }, "target has a byte outside visible ASCII")
    invariant(parsed.isHead == head.starts(with: Array("HEAD ".utf8)), "method mismatch")
  }
  invariant(scan(head) == result, "the head's own bytes scan differently")
  for end in stride(from: head.startIndex, to: head.endIndex, by: max(1, length / 64)) {
    invariant(scan(head[head.startIndex..<end]) == .incomplete, "a \(end - head.startIndex)-byte prefix is not incomplete")
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRawRequestHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = FuzzInput(data, size).rest[...]
  let result = scan(input)
  switch result {
  case .fast(let head): checkComplete(input, length: head.length, result: result)
  case .general(let length, _): checkComplete(input, length: length, result: result)
  case .undecodable:
    invariant(scan(input + Array("\r\n\r\nGET / HTTP/1.1\r\n\r\n".utf8)) == .undecodable, "undecodable input became decodable")
  case .targetTooLong:
    let method = input.starts(with: Array("GET ".utf8)) ? 4 : 5
    invariant(input.starts(with: Array("GET /".utf8)) || input.starts(with: Array("HEAD /".utf8)), "414 for a head that is not GET or HEAD of an origin-form target")
    let target = input.dropFirst(method).prefix(RawRequestHead.maximumTargetLength + 1)
    invariant(target.count > RawRequestHead.maximumTargetLength, "414 for a target of \(target.count) bytes")
    invariant(target.allSatisfy { $0 > 32 && $0 < 127 }, "414 for a target with a space or a byte outside visible ASCII")
    invariant(scan(input + Array(" HTTP/1.1\r\n\r\n".utf8)) == .targetTooLong, "a 414 target became acceptable")
  case .incomplete:
    break
  }
  return 0
}
