// Fuzz target: the HTTP client's `Content-Range` parser (`ContentRange`, CotarHTTP).
//
// Input: [mode] then either header text (mode even) or three 8-byte numbers and a shape
// selector from which a canonical header is written (mode odd).
//
// Invariants checked beyond "no crash":
// - a parsed `bytes first-last/complete` range is inside the representation:
//   first ≤ last < complete; and its length last − first + 1 fits an `Int` (the client
//   computes the body length from it);
// - the parse round-trips: the canonical text of a parsed value parses to the same value;
// - a canonical header from numbers parses exactly when it is valid.

func canonical(_ range: ContentRange) -> String {
  switch range {
  case .bytes(let first, let last, let complete): "bytes \(first)-\(last)/\(complete.map(String.init) ?? "*")"
  case .unsatisfied(let complete): "bytes */\(complete)"
  }
}

func check(_ parsed: ContentRange) {
  switch parsed {
  case .bytes(let first, let last, let complete):
    invariant(first <= last, "first \(first) > last \(last)")
    if let complete { invariant(last < complete, "last \(last) not below complete length \(complete)") }
    invariant(last - first < UInt64(Int.max), "range length \(last - first) + 1 does not fit an Int")
  case .unsatisfied:
    break
  }
  invariant(ContentRange(canonical(parsed)) == parsed, "'\(canonical(parsed))' does not round-trip")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContentRange(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let mode = input.byte()
  if mode & 1 == 0 {
    if let parsed = ContentRange(String(decoding: input.rest, as: UTF8.self)) { check(parsed) }
    return 0
  }
  let first = input.uint64()
  let last = input.uint64()
  let complete = input.uint64()
  let shape = input.byte() % 3
  let text: String
  let valid: Bool
  // Positions and lengths above 2^63 − 1 are refused: no real object is that large.
  let largest = UInt64(Int64.max)
  switch shape {
  case 0:
    text = "bytes \(first)-\(last)/\(complete)"
    valid = first <= last && last < complete && complete <= largest && last - first < UInt64(Int.max)
  case 1:
    text = "bytes \(first)-\(last)/*"
    valid = first <= last && last <= largest && last - first < UInt64(Int.max)
  default:
    text = "bytes */\(complete)"
    valid = complete <= largest
  }
  let parsed = ContentRange(text)
  invariant((parsed != nil) == valid, "'\(text)' parsed as \(String(describing: parsed)), expected valid: \(valid)")
  if let parsed { check(parsed) }
  return 0
}
