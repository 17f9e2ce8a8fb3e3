// Fuzz target: the PAX extended-header record parser (`PaxRecords(parsing:dataOffset:)`).
//
// Invariants checked beyond "no crash":
// - the parser accepts exactly what an independent reference parser (below) accepts, and
//   agrees on `path`, `linkpath`, `size` and the sparse flag;
// - a rejection is `.invalidTar` at the offset of a record inside the data;
// - merging with an empty record set changes nothing, and a merge prefers the override.

/// What the reference parser makes of a record set (`nil`: rejected at that record offset).
struct ReferencePax: Equatable {
  var path: [UInt8]?
  var linkPath: [UInt8]?
  var size: UInt64?
  var isSparse = false
}

/// A deliberately simple, independent reading of POSIX `"<len> <key>=<value>\n"` records.
func referencePax(_ data: [UInt8]) -> Result<ReferencePax, RejectedAt> {
  var result = ReferencePax()
  var start = 0
  while start < data.count, data[start] != 0 {
    guard let space = data[start...].firstIndex(of: 0x20), space > start else { return .failure(RejectedAt(start)) }
    var length: UInt64 = 0
    for digit in data[start..<space] {
      guard (0x30...0x39).contains(digit) else { return .failure(RejectedAt(start)) }
      length = length * 10 + UInt64(digit - 0x30)
      guard length <= UInt64(data.count) else { return .failure(RejectedAt(start)) }
    }
    guard length > 0, UInt64(start) + length <= UInt64(data.count) else { return .failure(RejectedAt(start)) }
    let end = start + Int(length)
    guard end - 1 > space, data[end - 1] == 0x0A else { return .failure(RejectedAt(start)) }
    let body = Array(data[(space + 1)..<(end - 1)])
    guard let equals = body.firstIndex(of: 0x3D) else { return .failure(RejectedAt(start)) }
    let key = String(decoding: body[..<equals], as: UTF8.self)
    let value = Array(body[(equals + 1)...])
    switch key {
    case "path": result.path = value.isEmpty ? nil : value
    case "linkpath": result.linkPath = value.isEmpty ? nil : value
    case "size":
      if value.isEmpty {
        result.size = nil
      } else {
        guard value.allSatisfy({ (0x30...0x39).contains($0) }) else { return .failure(RejectedAt(start)) }
        // Decimal with leading zeros; reject what does not fit 64 bits.
        let digits = value.drop(while: { $0 == 0x30 })
        guard digits.count <= 20, let number = UInt64(String(decoding: digits.isEmpty ? [0x30] : Array(digits), as: UTF8.self))
        else { return .failure(RejectedAt(start)) }
        result.size = number
      }
    default:
      if key.hasPrefix("GNU.sparse.") { result.isSparse = true }
    }
    start = end
  }
  return .success(result)
}

struct RejectedAt: Error, Equatable {
  var offset: Int
  init(_ offset: Int) { self.offset = offset }
}

func summary(_ records: PaxRecords) -> ReferencePax {
  ReferencePax(path: records.path, linkPath: records.linkPath, size: records.size, isSparse: records.isSparse)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPaxRecords(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let dataOffset = input.uint64(2) * 512
  let bytes = input.rest
  let expected = referencePax(bytes)
  do {
    let records = try PaxRecords(parsing: bytes, dataOffset: dataOffset)
    guard case .success(let reference) = expected else {
      fatalError("invariant violated: parser accepted what the reference rejects: \(expected)")
    }
    invariant(summary(records) == reference, "parser \(summary(records)) vs reference \(reference)")
    invariant(summary(records.merged(with: PaxRecords())) == summary(records), "merging an empty set changed the records")
    invariant(summary(PaxRecords().merged(with: records)) == summary(records), "merging into an empty set lost records")
    var override = PaxRecords()
    override.path = [0x61]
    let merged = records.merged(with: override)
    invariant(merged.path == [0x61] && merged.size == records.size, "override did not win")
  } catch {
    guard case .failure(let rejected) = expected else {
      fatalError("invariant violated: parser rejected (\(error)) what the reference accepts: \(expected)")
    }
    invariant(error.code == .invalidTar, "rejected with \(error.code), not invalidTar")
    invariant(error.offset == dataOffset + UInt64(rejected.offset), "error offset \(String(describing: error.offset)) vs record at \(dataOffset + UInt64(rejected.offset))")
  }
  return 0
}
