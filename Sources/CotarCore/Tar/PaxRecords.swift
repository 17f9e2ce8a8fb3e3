/// The keys of a PAX extended header (`x` or `g`) that affect indexing.
struct PaxRecords {
  var path: [UInt8]?
  var linkPath: [UInt8]?
  var size: UInt64?
  /// Whole seconds of a PAX `mtime` record, floored as GNU tar and Python `tarfile` read
  /// it (`1234.5678` → 1234, `-12.5` → −13: half a second before −12).
  var mtime: Int64?
  /// A PAX `mtime` record that is not a decimal time (`mtime=abc`): its value and the
  /// record's offset. Kept, not thrown, so that the member it applies to can be named: the
  /// scanner reports it as `.invalidTar` when it reaches that member (SPEC §6).
  var invalidMtime: (value: [UInt8], offset: UInt64)?
  var isSparse = false
  /// The real name of a PAX sparse member (`GNU.sparse.name`, formats 0.1 and 1.0; the
  /// `path` then holds a `GNUSparseFile.N/` placeholder).
  var sparseName: [UInt8]?
  /// The real (expanded) size of a PAX sparse member: `GNU.sparse.realsize` (format 1.0) or
  /// `GNU.sparse.size` (0.0 and 0.1); malformed values are ignored (listing metadata only).
  var sparseRealSize: UInt64?
  /// Keys whose empty value means "remove" (POSIX: an empty value deletes a global setting).
  var deleted: Set<String> = []

  /// Parses PAX records `"<length> <key>=<value>\n"` from `data`.
  ///
  /// - Throws: `CotarError` `.invalidTar` naming the record's offset and what is wrong with
  ///   it: no decimal length, no space after it, a length that runs past the end of the
  ///   extended header or is too short for the record, no final newline, or no `=`.
  init(parsing data: [UInt8], dataOffset: UInt64) throws(CotarError) {
    var position = 0
    while position < data.count {
      if data[position] == 0 { break }  // NUL padding after the last record
      let recordStart = position
      var length = 0
      var pastEnd = false
      while position < data.count, data[position] >= 0x30, data[position] <= 0x39 {
        // Kept below the header's size (no overflow); longer lengths are only reported.
        if !pastEnd {
          length = length * 10 + Int(data[position] - 0x30)
          pastEnd = length > data.count - recordStart
        }
        position += 1
      }
      let left = data.count - recordStart
      func malformed(_ why: String) -> CotarError {
        CotarError(.invalidTar, "malformed PAX extended header record: \(why)", offset: dataOffset + UInt64(recordStart))
      }
      guard position > recordStart else {
        throw malformed("it does not start with a decimal length ('\(Self.shown(data[recordStart...]))')")
      }
      let lengthText = String(decoding: data[recordStart..<min(position, recordStart + 40)], as: UTF8.self)
      guard position < data.count, data[position] == 0x20 else {
        throw malformed("the length \(lengthText) is not followed by a space")
      }
      guard !pastEnd else {
        throw malformed(
          "record length \(lengthText) runs past the end of the extended header of \(data.count) bytes"
            + (recordStart > 0 ? " (\(left) bytes from the record's start)" : ""))
      }
      let recordEnd = recordStart + length
      guard recordEnd >= position + 2 else {
        throw malformed("record length \(lengthText) is shorter than the record's own length field")
      }
      guard data[recordEnd - 1] == 0x0A else {
        throw malformed("the record of length \(lengthText) does not end with a newline ('\(Self.shown(data[recordStart..<recordEnd]))')")
      }
      let body = data[(position + 1)..<(recordEnd - 1)]
      guard let equals = body.firstIndex(of: 0x3D) else {
        throw malformed("the record has no '=' between key and value ('\(Self.shown(body))')")
      }
      let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
      let value = Array(body[(equals + 1)...])
      try apply(key: key, value: value, offset: dataOffset + UInt64(recordStart))
      position = recordEnd
    }
  }

  /// At most 40 bytes of a record for an error message, control characters escaped.
  private static func shown(_ bytes: ArraySlice<UInt8>) -> String {
    let text = String(decoding: bytes.prefix(40), as: UTF8.self)
    let escaped = text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? $0.escaped(asASCII: true) : String($0) }.joined()
    return bytes.count > 40 ? escaped + "…" : escaped
  }

  init() {}

  /// Whether no record is set (the state of an archive without PAX headers).
  var isEmpty: Bool {
    path == nil && linkPath == nil && size == nil && mtime == nil && invalidMtime == nil && !isSparse && sparseName == nil
      && sparseRealSize == nil && deleted.isEmpty
  }

  private mutating func apply(key: String, value: [UInt8], offset: UInt64) throws(CotarError) {
    if value.isEmpty {
      deleted.insert(key)
    } else {
      deleted.remove(key)
    }
    switch key {
    case "path": path = value.isEmpty ? nil : value
    case "linkpath": linkPath = value.isEmpty ? nil : value
    case "size":
      if value.isEmpty {
        size = nil
        return
      }
      var number: UInt64 = 0
      for byte in value {
        guard byte >= 0x30, byte <= 0x39 else {
          throw CotarError(.invalidTar, "PAX size record is not a decimal number", offset: offset)
        }
        let (shifted, overflow) = number.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(byte - 0x30))
        guard !overflow, !overflow2 else {
          throw CotarError(.invalidTar, "PAX size record overflows 64 bits", offset: offset)
        }
        number = sum
      }
      size = number
    case "mtime":
      if value.isEmpty {
        mtime = nil
        invalidMtime = nil
      } else if let seconds = Self.flooredSeconds(value) {
        mtime = seconds
        invalidMtime = nil
      } else {
        mtime = nil
        invalidMtime = (value, offset)
      }
    case "GNU.sparse.name":
      isSparse = true
      sparseName = value.isEmpty ? nil : value
    case "GNU.sparse.realsize", "GNU.sparse.size":
      isSparse = true
      sparseRealSize = Self.decimal(value)
    default:
      if key.hasPrefix("GNU.sparse.") { isSparse = true }
    }
  }

  /// These records with `override`'s values taking precedence (per-entry over global).
  func merged(with override: PaxRecords) -> PaxRecords {
    var result = self
    for key in override.deleted {
      switch key {
      case "path": result.path = nil
      case "linkpath": result.linkPath = nil
      case "size": result.size = nil
      case "mtime":
        result.mtime = nil
        result.invalidMtime = nil
      default: break
      }
    }
    if let path = override.path { result.path = path }
    if let linkPath = override.linkPath { result.linkPath = linkPath }
    if let size = override.size { result.size = size }
    if let mtime = override.mtime {
      result.mtime = mtime
      result.invalidMtime = nil
    }
    if let invalidMtime = override.invalidMtime {
      result.mtime = nil
      result.invalidMtime = invalidMtime
    }
    result.isSparse = result.isSparse || override.isSparse
    if let sparseName = override.sparseName { result.sparseName = sparseName }
    if let sparseRealSize = override.sparseRealSize { result.sparseRealSize = sparseRealSize }
    return result
  }

  /// A non-negative decimal number of at most 19 digits; `nil` if malformed.
  static func decimal(_ value: [UInt8]) -> UInt64? {
    guard !value.isEmpty, value.count <= 19, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return value.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
  }

  /// The whole seconds of a decimal time `-?DIGITS[.DIGITS]` (`1700000000.25`, `-3.5`,
  /// `12.`), floored as GNU tar reads it (`-3.5` → −4); `nil` when the value has another
  /// form (`abc`, `1e3`, ` 12`, `.5`) or its seconds do not fit 64 bits.
  static func flooredSeconds(_ value: [UInt8]) -> Int64? {
    var rest = value[...]
    let negative = rest.first == 0x2D
    if negative { rest = rest.dropFirst() }
    let whole = rest.prefix { $0 != 0x2E }
    let fraction = rest.dropFirst(whole.count).dropFirst()
    let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
    guard !whole.isEmpty, whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit) else { return nil }
    var magnitude: Int64 = 0
    for digit in whole {
      let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = shifted.addingReportingOverflow(Int64(digit - 0x30))
      guard !overflow, !overflow2 else { return nil }
      magnitude = sum
    }
    guard negative else { return magnitude }
    // −12.5 is −13 s + 0.5 s: a negative time with a non-zero fraction floors one lower.
    let hasFraction = fraction.contains { $0 != 0x30 }
    let (floored, overflow) = (-magnitude).subtractingReportingOverflow(hasFraction ? 1 : 0)
    return overflow ? nil : floored
  }
}
