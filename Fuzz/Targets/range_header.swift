// Fuzz target: the server's `Range` request header parser (`ByteRangeRequest`, CotarServer).
//
// Input: [length selector: 8 bytes][mode] then header text (mode even) or two numbers and a
// shape selector from which a canonical header is written (mode odd).
//
// Invariants checked beyond "no crash":
// - a partial answer is a non-empty range inside the representation (upper bound ≤ length);
// - canonical headers (`bytes=a-b`, `bytes=a-`, `bytes=-n`) get exactly the RFC 9110 answer
//   computed independently here.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRangeHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let rawLength = input.uint64()
  // Mostly small lengths, sometimes huge ones.
  let length = rawLength & 0x100 == 0 ? rawLength % 4096 : rawLength
  let mode = input.byte()
  let header: String
  var expected: ByteRangeRequest?
  if mode & 1 == 0 {
    header = String(decoding: input.rest, as: UTF8.self)
  } else {
    let a = input.byte() & 1 == 0 ? input.uint64() % 8192 : input.uint64()
    let b = input.byte() & 1 == 0 ? input.uint64() % 8192 : input.uint64()
    switch input.byte() % 3 {
    case 0:
      header = "bytes=\(a)-\(b)"
      expected =
        b < a ? .whole : a >= length ? .unsatisfiable : .partial(a..<(min(b, length - 1) + 1))
    case 1:
      header = "bytes=\(a)-"
      expected = a >= length ? .unsatisfiable : .partial(a..<length)
    default:
      header = "bytes=-\(b)"
      expected = b == 0 ? .unsatisfiable : length == 0 ? .whole : .partial((length - min(b, length))..<length)
    }
  }
  let answer = ByteRangeRequest(header: header, length: length)
  if case .partial(let range) = answer {
    invariant(!range.isEmpty, "empty partial range \(range) for '\(header)'")
    invariant(range.upperBound <= length, "range \(range) outside a representation of \(length) bytes for '\(header)'")
  }
  if let expected { invariant(answer == expected, "'\(header)' with length \(length): \(answer), expected \(expected)") }
  return 0
}
