/// The keys of a PAX extended header (`x` or `g`) that affect indexing.
struct PaxRecords {
  var path: [UInt8]?
  var linkPath: [UInt8]?
  var size: UInt64?
  /// Integer seconds of a PAX `mtime` record (`-12.5` → −12); malformed values are ignored.
  var mtime: Int64?
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
  /// - Throws: `CotarError` `.invalidTar` naming the record's offset when a length is not a
  ///   decimal number, does not match the record, or a record lacks `=` or the final newline.
  init(parsing data: [UInt8], dataOffset: UInt64) throws(CotarError) {
    var position = 0
    while position < data.count {
      if data[position] == 0 { break }  // NUL padding after the last record
      let recordStart = position
      var length = 0
      while position < data.count, data[position] >= 0x30, data[position] <= 0x39 {
        length = length * 10 + Int(data[position] - 0x30)
        guard length <= data.count else { break }
        position += 1
      }
      let malformed = CotarError(
        .invalidTar, "malformed PAX extended header record", offset: dataOffset + UInt64(recordStart))
      guard position > recordStart, position < data.count, data[position] == 0x20 else { throw malformed }
      let recordEnd = recordStart + length
      guard length > 0, recordEnd <= data.count, data[recordEnd - 1] == 0x0A else { throw malformed }
      let body = data[(position + 1)..<(recordEnd - 1)]
      guard let equals = body.firstIndex(of: 0x3D) else { throw malformed }
      let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
      let value = Array(body[(equals + 1)...])
      try apply(key: key, value: value, offset: dataOffset + UInt64(recordStart))
      position = recordEnd
    }
  }

  init() {}

  /// Whether no record is set (the state of an archive without PAX headers).
  var isEmpty: Bool {
    path == nil && linkPath == nil && size == nil && mtime == nil && !isSparse && sparseName == nil
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
      mtime = Self.integerSeconds(value)
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
      case "mtime": result.mtime = nil
      default: break
      }
    }
    if let path = override.path { result.path = path }
    if let linkPath = override.linkPath { result.linkPath = linkPath }
    if let size = override.size { result.size = size }
    if let mtime = override.mtime { result.mtime = mtime }
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

  /// The integer part of a decimal time such as `1700000000.25` or `-3.5`; `nil` if malformed.
  static func integerSeconds(_ value: [UInt8]) -> Int64? {
    var digits = value.prefix { $0 != 0x2E }[...]
    let negative = digits.first == 0x2D
    if negative { digits = digits.dropFirst() }
    guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    let magnitude = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
    return negative ? -magnitude : magnitude
  }
}
