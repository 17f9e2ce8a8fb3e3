/// The check that binds a sidecar index to its tar (SPEC §8.5): the 512-byte tar header block
/// right before an entry's data is read in the same read as the data and must describe the
/// entry (a valid checksum, a regular-file type, the record's size) before any byte is used.
///
/// A `.tar.index` beside a `.tar` has nothing else tying it to the tar: when the tar is
/// rewritten after indexing (`tar --delete`, `tar -cf` again, another tar copied over it) the
/// record's offset points at other bytes. ``Cotar`` applies this check to every data read of
/// an archive opened with ``Cotar/open(tar:index:options:)`` (``Cotar/checksEntryHeaders``);
/// a `.tar.co` (tar and index written together in one file) is never checked.
public struct EntryHeaderCheck: Sendable, Hashable {
  /// The size of a tar header block.
  public static let blockSize: UInt64 = 512
  /// A read that starts at most this many bytes after the entry's data starts (a `Range`
  /// request into the entry) still reads the header with the bytes between, in the same
  /// read; one starting later reads the header with a separate 512-byte read made at the same
  /// time as the data read.
  public static let maximumBridgedBytes: UInt64 = 64 << 10

  /// The entry whose header is checked.
  public let entry: CotarEntry
  /// The entry's path, for errors (`nil` when the caller does not know it).
  public let path: String?
  /// The tar's identity (file path or URL), for errors.
  public let source: String

  /// A check of `entry` of the tar named `source`; performs no I/O.
  public init(entry: CotarEntry, path: String?, source: String) {
    self.entry = entry
    self.path = path
    self.source = source
  }

  /// Where the header block starts: 512 bytes before the data.
  ///
  /// - Throws: `CotarError` `.corruptIndex` when the data offset is below 512: a member's
  ///   data always follows its header, so no real record points there.
  public func headerOffset() throws(CotarError) -> UInt64 {
    guard entry.offset >= Self.blockSize else {
      throw CotarError(
        .corruptIndex,
        "the index puts this entry's data at byte \(entry.offset), where the tar's first header must be (a member's data always follows its 512-byte header); the index is corrupt or not for this tar; rebuild it with 'cotar index \(source) --force'",
        offset: entry.offset, path: path, source: source)
    }
    return entry.offset - Self.blockSize
  }

  /// The one read that serves `range` (bytes of the entry) with the header block in front,
  /// or `nil` when `range` starts more than ``maximumBridgedBytes`` into the entry (then the
  /// header is read on its own).
  ///
  /// - Throws: as ``headerOffset()``.
  public func bridgedRange(for range: Range<UInt64>) throws(CotarError) -> Range<UInt64>? {
    let header = try headerOffset()
    guard range.lowerBound >= entry.offset, range.lowerBound - entry.offset <= Self.maximumBridgedBytes else {
      return nil
    }
    return header..<max(range.upperBound, entry.offset)
  }

  /// Checks the header block read from before the entry's data, without I/O.
  ///
  /// - Parameter block: the 512 bytes at ``headerOffset()`` (more are ignored).
  /// - Returns: `nil` when the header describes the entry; the header's size field when it
  ///   is a valid regular-file header whose size differs from the record's, which a PAX
  ///   `size` record before it may override (``resolvePaxSize(_:windowStart:headerSize:)`` decides).
  /// - Throws: `CotarError` `.staleIndex` when the block is not a valid header of a regular
  ///   file (naming the entry, the header's offset and what differs), `.truncated` when fewer
  ///   than 512 bytes are given, `.corruptIndex` as ``headerOffset()``.
  public func inspect(_ block: UnsafeRawBufferPointer) throws(CotarError) -> UInt64? {
    let header = try headerOffset()
    guard block.count >= Int(Self.blockSize) else {
      throw CotarError(
        .truncated, "the tar header before the entry's data is cut short (\(block.count) of 512 bytes)", offset: header,
        path: path, source: source)
    }
    let block = UnsafeRawBufferPointer(rebasing: block[0..<Int(Self.blockSize)])
    if TarHeader.isZeroBlock(block) {
      throw stale("the 512 bytes before the entry's data are zeros (the end of the tar or padding), not its tar header")
    }
    do {
      try TarHeader.verifyChecksum(block, offset: header)
    } catch {
      throw stale("the 512 bytes before the entry's data are not a tar header (\(error.message))")
    }
    let typeflag = block[156]
    guard Self.carriesData(typeflag) else {
      throw stale("the tar header before the entry's data is of type '\(Self.printable(typeflag))', not a regular file")
    }
    let size = try headerSize(block)
    return size == entry.size ? nil : size
  }

  /// The size field of a valid header block: octal or base-256, read as the scanner reads it.
  func headerSize(_ block: UnsafeRawBufferPointer) throws(CotarError) -> UInt64 {
    if let plain = TarHeader.plainOctal(block, from: 124, count: 12) { return plain }
    do {
      return try TarHeader.parseNumber(block, field: 124..<136, name: "size", offset: entry.offset - Self.blockSize)
    } catch {
      throw stale("the tar header before the entry's data has an unreadable size (\(error.message))")
    }
  }

  /// Where a PAX extended header whose `size` overrides the entry's header is looked for when
  /// the header's own size field differs: the ``maximumPaxBytes`` before the header.
  ///
  /// - Throws: as ``headerOffset()``.
  public func paxWindow() throws(CotarError) -> Range<UInt64> {
    let header = try headerOffset()
    return (header > Self.maximumPaxBytes ? header - Self.maximumPaxBytes : 0)..<header
  }

  /// How far before an entry's header a PAX extended header (`x` header and records) that
  /// overrides its size may start.
  public static let maximumPaxBytes: UInt64 = 64 << 10

  /// Decides a header whose size field (`headerSize`) differs from the record's (as
  /// ``inspect(_:)`` returns it): it passes only when the bytes before it end with a PAX extended header (`x`)
  /// whose `size` record equals the record's size, as a PAX `size` overrides the header's
  /// field (SPEC §8.5).
  ///
  /// - Parameters:
  ///   - window: the bytes of ``paxWindow()``.
  ///   - windowStart: where `window` starts in the tar.
  /// - Throws: `CotarError` `.staleIndex` naming both sizes otherwise.
  public func resolvePaxSize(_ window: [UInt8], windowStart: UInt64, headerSize: UInt64) throws(CotarError) {
    let header = try headerOffset()
    let mismatch = "the tar header before the entry's data gives a size of \(headerSize) bytes, the index \(entry.size)"
    let end = windowStart + UInt64(window.count)
    guard end == header, header >= windowStart + Self.blockSize else { throw stale(mismatch) }
    // Candidate `x` headers, nearest first: one whose records end exactly at the header.
    var candidate = header - Self.blockSize
    while true {
      let at = Int(candidate - windowStart)
      let found: UInt64?? = window.withUnsafeBytes { raw -> UInt64?? in
        let block = UnsafeRawBufferPointer(rebasing: raw[at..<(at + Int(Self.blockSize))])
        guard block[156] == UInt8(ascii: "x"), (try? TarHeader.verifyChecksum(block, offset: candidate)) != nil,
          let size = TarHeader.plainOctal(block, from: 124, count: 12) ?? (try? TarHeader.parseNumber(block, field: 124..<136, name: "size", offset: candidate))
        else { return nil }
        return .some(size)
      }
      if let recordsSize = found ?? nil {
        let recordsStart = candidate + Self.blockSize
        let (blocks, overflow) = recordsSize.addingReportingOverflow(Self.blockSize - 1)
        if !overflow, recordsStart + blocks / Self.blockSize * Self.blockSize == header, recordsSize <= header - recordsStart {
          let start = Int(recordsStart - windowStart)
          let records: PaxRecords
          do {
            records = try PaxRecords(parsing: Array(window[start..<(start + Int(recordsSize))]), dataOffset: recordsStart)
          } catch {
            throw stale("\(mismatch), and the PAX header before it is malformed (\(error.message))")
          }
          guard let paxSize = records.size else { throw stale("\(mismatch), and the PAX header before it has no size") }
          guard paxSize == entry.size else {
            throw stale("the PAX size of the tar member before the entry's data is \(paxSize) bytes, the index \(entry.size)")
          }
          return
        }
      }
      guard candidate >= windowStart + Self.blockSize else { break }
      candidate -= Self.blockSize
    }
    throw stale(mismatch)
  }

  /// Checks the header block, and when only its size differs reads the ``paxWindow()`` from
  /// `data` (one more read, for such members only) to look for a PAX `size`.
  ///
  /// - Parameter bytes: starts with the 512 bytes at ``headerOffset()``.
  /// - Throws: as ``inspect(_:)`` and ``resolvePaxSize(_:windowStart:)``, and `data`'s errors.
  public func verify(_ bytes: ArraySlice<UInt8>, from data: any RangeSource) async throws {
    let differing = try bytes.withUnsafeBytes { (raw) throws(CotarError) -> UInt64? in try inspect(raw) }
    guard let differing else { return }
    let window = try paxWindow()
    try resolvePaxSize(try await data.read(window), windowStart: window.lowerBound, headerSize: differing)
  }

  /// ``verify(_:from:)-(ArraySlice<UInt8>,_)`` on a local source, without suspending.
  ///
  /// - Throws: as ``verify(_:from:)-(ArraySlice<UInt8>,_)``.
  public func verify(_ block: UnsafeRawBufferPointer, from data: any SynchronousRangeSource) throws {
    guard let differing = try inspect(block) else { return }
    let window = try paxWindow()
    var bytes = [UInt8](repeating: 0, count: window.count)
    try bytes.withUnsafeMutableBytes { try data.readSync(window, into: $0) }
    try resolvePaxSize(bytes, windowStart: window.lowerBound, headerSize: differing)
  }

  /// The bytes of `range` (part of the entry) read from `data` after the header passed:
  /// with the header in the same read (``bridgedRange(for:)``), else with a separate
  /// 512-byte read of the header made at the same time.
  ///
  /// - Throws: as ``verify(_:from:)-(ArraySlice<UInt8>,_)`` and `data`'s reads; `.truncated` saying the
  ///   index is stale when the tar ends before the bytes read (``explainingCut(_:)``).
  public func read(_ range: Range<UInt64>, from data: any RangeSource) async throws -> [UInt8] {
    try await mappingCut { try await readChecked(range, from: data) }
  }

  /// ``read(_:from:)`` without explaining a cut tar (``explainingCut(_:)``).
  private func readChecked(_ range: Range<UInt64>, from data: any RangeSource) async throws -> [UInt8] {
    if let bridged = try bridgedRange(for: range) {
      let bytes = try await data.read(bridged)
      let start = Int(range.lowerBound - bridged.lowerBound)
      guard bytes.count >= start + range.count else {
        throw CotarError(
          .truncated, "the read of the entry returned \(bytes.count) bytes, \(start + range.count) were asked for",
          offset: bridged.lowerBound, path: path, source: source)
      }
      try await verify(bytes[...], from: data)
      return Array(bytes[start..<(start + range.count)])
    }
    let header = try headerOffset()
    async let block = data.read(header..<(header + Self.blockSize))
    let bytes = try await data.read(range)
    try await verify(try await block[...], from: data)
    return bytes
  }

  /// Reads `range` (part of the entry) from a local source into the start of `buffer` after
  /// the header passed, with one `pread` of the header and the bytes before `range`.
  ///
  /// - Throws: as ``read(_:from:)``.
  public func readSync(
    _ range: Range<UInt64>, from data: any SynchronousRangeSource, into buffer: UnsafeMutableRawBufferPointer
  ) throws {
    try mappingCutSync { try readCheckedSync(range, from: data, into: buffer) }
  }

  /// ``readSync(_:from:into:)`` without explaining a cut tar (``explainingCut(_:)``).
  private func readCheckedSync(
    _ range: Range<UInt64>, from data: any SynchronousRangeSource, into buffer: UnsafeMutableRawBufferPointer
  ) throws {
    guard let bridged = try bridgedRange(for: range) else {
      let header = try headerOffset()
      var block = [UInt8](repeating: 0, count: Int(Self.blockSize))
      try block.withUnsafeMutableBytes { try data.readSync(header..<(header + Self.blockSize), into: $0) }
      try block.withUnsafeBytes { try verify($0, from: data) }
      try data.readSync(range, into: buffer)
      return
    }
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: bridged.count, alignment: 16)
    defer { scratch.deallocate() }
    try data.readSync(bridged, into: scratch)
    try verify(UnsafeRawBufferPointer(scratch), from: data)
    let start = Int(range.lowerBound - bridged.lowerBound)
    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[start..<(start + range.count)]))
  }

  /// The bytes of `range` read from `data`: through `check` (``read(_:from:)``) when one is
  /// given, an entry of a sidecar layout; else one plain read.
  ///
  /// - Throws: as ``read(_:from:)``, or `data`'s read.
  public static func read(
    _ range: Range<UInt64>, from data: any RangeSource, checking check: EntryHeaderCheck?
  ) async throws -> [UInt8] {
    guard let check else { return try await data.read(range) }
    return try await check.read(range, from: data)
  }

  /// The bytes of `range` read from a local `data` into the start of `buffer`: through
  /// `check` (``readSync(_:from:into:)``) when one is given, else one plain read.
  ///
  /// - Throws: as ``readSync(_:from:into:)``, or `data`'s read.
  public static func readSync(
    _ range: Range<UInt64>, from data: any SynchronousRangeSource, into buffer: UnsafeMutableRawBufferPointer,
    checking check: EntryHeaderCheck?
  ) throws {
    guard let check else { return try data.readSync(range, into: buffer) }
    try check.readSync(range, from: data, into: buffer)
  }

  /// A copy naming `path` in its errors.
  public func naming(_ path: String?) -> EntryHeaderCheck {
    EntryHeaderCheck(entry: entry, path: path ?? self.path, source: source)
  }

  /// `error` explained as a stale index when it says the tar ends before the bytes the index
  /// describes: a `.truncated` error of the tar's source that has no underlying cause (a file
  /// or object shorter than the read, not a connection that closed early, nor damaged gzip
  /// data, ``CotarError/isDamagedData``). The index was
  /// built from a longer tar, so the tar was cut or replaced after it was indexed: the error
  /// stays `.truncated`, at the entry's header offset, its message keeping the source's own
  /// words (where the file really ends) inside the stale-index wording and remedy
  /// (`cotar index X --force`). Any other error is returned unchanged.
  public func explainingCut(_ error: any Error) -> any Error {
    guard let cut = error as? CotarError, cut.code == .truncated, !cut.isDamagedData, cut.cause == nil,
      cut.source == nil || cut.source == source
    else { return error }
    return stale(cut.message, code: .truncated)
  }

  /// Runs `body` (reads of the entry's tar), explaining a tar that ends too early as
  /// ``explainingCut(_:)`` does.
  func mappingCut<T>(_ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch {
      throw explainingCut(error)
    }
  }

  /// The synchronous form of ``mappingCut(_:)``.
  func mappingCutSync<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      throw explainingCut(error)
    }
  }

  /// The `.staleIndex` error (or one of another `code`) for `detail`.
  func stale(_ detail: String, code: CotarError.Code = .staleIndex) -> CotarError {
    CotarError(
      code,
      "the tar changed since it was indexed: \(detail) (the index says the data is \(entry.size) bytes at byte \(entry.offset)); the sidecar index is stale: rebuild it with 'cotar index \(source) --force'",
      offset: entry.offset - Self.blockSize, path: path, source: source)
  }

  /// Whether a header of this type is followed by the data an index record points at: a
  /// regular file (`0`, NUL, contiguous `7`). A hard link's record holds its target's data,
  /// whose header is the target's, a regular file.
  static func carriesData(_ typeflag: UInt8) -> Bool {
    typeflag == UInt8(ascii: "0") || typeflag == 0 || typeflag == UInt8(ascii: "7")
  }

  /// A type flag for a message: the letter, or its number when it is not printable.
  static func printable(_ typeflag: UInt8) -> String {
    (0x21...0x7E).contains(typeflag) ? String(UnicodeScalar(typeflag)) : "\\\(typeflag)"
  }
}
