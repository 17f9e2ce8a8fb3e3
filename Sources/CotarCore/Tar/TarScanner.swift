/// Streams the members of a tar archive from a ``RangeSource`` without reading entry data.
///
/// Handles v7, ustar (with the 155-byte prefix), GNU (`L` long names, `K` long links,
/// base-256 numbers) and PAX (`x` per-entry and `g` global records). Every header checksum
/// is verified. The archive ends at the first all-zero block, or at end of file exactly on a
/// header boundary. Headers are read through a read-ahead buffer (default 1 MiB), so a local
/// scan is a sequential read; entries whose data is larger than the buffer are hopped over.
public struct TarScanner: Sendable {
  /// Tuning and safety limits.
  public struct Options: Sendable {
    /// Bytes fetched per read while walking headers.
    public var readAheadBytes: Int = 1 << 20
    /// Largest GNU long name or PAX extended header accepted, in bytes.
    public var maximumExtendedHeaderBytes: Int = 1 << 20
    /// When set, the read size adapts, for remote sources where each read is a request: a
    /// read that had to hop over at least ``readAheadBytes`` of entry data (large members)
    /// shrinks the next read to this many bytes (a header and a PAX or GNU long-name header
    /// fit in 4 KiB); a read that continues where the last one ended, or hops less, doubles
    /// the next one up to ``readAheadBytes`` (small members are streamed). `nil` (the
    /// default) always reads ``readAheadBytes``.
    public var adaptiveMinimumReadAheadBytes: Int?

    /// Creates options with the defaults.
    public init() {}
  }

  /// The archive being scanned.
  public let source: any RangeSource
  /// The options in use.
  public let options: Options

  /// Creates a scanner over `source`.
  public init(source: any RangeSource, options: Options = Options()) {
    self.source = source
    self.options = options
  }

  /// The members in archive order, as an async sequence.
  public func entries() -> TarEntrySequence { TarEntrySequence(scanner: self) }

  /// Calls `body` for every member in archive order and returns what the walk found.
  ///
  /// - Parameters:
  ///   - startOffset: where to start walking (a header boundary; 0 for the whole archive).
  ///   - body: called once per member, indexed or not.
  /// - Returns: the end-of-archive offset and counts.
  /// - Throws: `CotarError` `.invalidTar` or `.truncated` naming the offset (and entry, when
  ///   known), `CancellationError` when the task is cancelled (checked before each read), or
  ///   whatever `body` throws.
  public func scan(
    from startOffset: UInt64 = 0, _ body: (TarEntry) throws -> Void
  ) async throws -> TarScanSummary {
    var walker = try await TarWalker(scanner: self, offset: startOffset)
    // Drive the synchronous walker directly: an async call per member would cost more than
    // parsing the member itself; only reads suspend.
    while true {
      switch try walker.step() {
      case .member(let entry): try body(entry)
      case .end: return walker.summary
      case .needs(let request):
        try Task.checkCancellation()
        try await walker.fulfil(request)
      }
    }
  }

  /// Reads the single member whose first header block is at `headerOffset`.
  ///
  /// - Throws: `CotarError` when there is no valid member there.
  public func entry(atHeaderOffset headerOffset: UInt64) async throws -> TarEntry {
    var walker = try await TarWalker(scanner: self, offset: headerOffset)
    guard let entry = try await walker.next() else {
      throw CotarError(.invalidTar, "no tar member at this offset", offset: headerOffset, source: source.identity)
    }
    return entry
  }
}

/// What a full scan found besides the entries themselves.
public struct TarScanSummary: Hashable, Sendable {
  /// Offset of the end-of-archive zero block or, when the archive ends at EOF without one,
  /// where the next header would start: the file size, or the end of the final member's data
  /// rounded up to 512 bytes when that data lacks its padding (then past the file size).
  public var endOffset: UInt64 = 0
  /// Number of members seen (all kinds).
  public var members = 0
  /// Members not indexed, by kind description (`directory`, `symlink`, …).
  public var skipped: [String: Int] = [:]
  /// Whether the archive ended with a zero block (`false`: it ended at end of file, without
  /// the end-of-archive marker).
  public var hasEndMarker = false

  /// How many zero bytes must follow a file of `fileSize` bytes, scanned with this result,
  /// so that it ends with a complete end-of-archive marker (two zero blocks) — what `cotar
  /// create` writes before the index of an unterminated tar (SPEC §10). 0 for a tar that
  /// already ends with two zero blocks (or has bytes after its first zero block).
  public func terminatorPadding(fileSize: UInt64) -> UInt64 {
    let marker = UInt64(2 * TarHeader.blockSize)
    guard hasEndMarker else { return endOffset >= fileSize ? endOffset - fileSize + marker : marker }
    let after = fileSize > endOffset ? fileSize - endOffset : 0
    return after < marker ? marker - after : 0
  }

  /// Total number of members not indexed.
  public var skippedCount: Int { skipped.values.reduce(0, +) }
}

/// An async sequence of the members of a tar archive; see ``TarScanner/entries()``.
public struct TarEntrySequence: AsyncSequence, Sendable {
  /// The element type.
  public typealias Element = TarEntry
  let scanner: TarScanner

  /// The iterator.
  public struct AsyncIterator: AsyncIteratorProtocol {
    let scanner: TarScanner
    var walker: TarWalker?
    var finished = false

    /// The next member, or `nil` at the end of the archive.
    ///
    /// - Throws: `CotarError` on malformed or truncated input.
    public mutating func next() async throws -> TarEntry? {
      if finished { return nil }
      if walker == nil { walker = try await TarWalker(scanner: scanner, offset: 0) }
      guard var current = walker else { return nil }
      let entry = try await current.next()
      walker = current
      if entry == nil { finished = true }
      return entry
    }
  }

  /// Makes an iterator starting at the beginning of the archive.
  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(scanner: scanner) }
}

/// The header-walking state machine behind ``TarScanner``.
///
/// ``step()`` is synchronous: it parses what is already buffered and either yields a member,
/// reports the end, or names the read it needs, which ``fulfil(_:)`` performs. Extended
/// headers (GNU `L`/`K`, PAX `x`/`g`) seen so far for the member being assembled are kept
/// between steps, so a step can resume after a read.
struct TarWalker {
  /// The outcome of one ``step()``.
  enum Step {
    /// The next member.
    case member(TarEntry)
    /// The end of the archive (the summary is complete).
    case end
    /// Bytes that must be read before stepping again.
    case needs(Request)
  }

  /// A read the walker needs.
  enum Request {
    /// Fill the read-ahead buffer starting at this header offset.
    case block(UInt64)
    /// The data of an extended header that is not in the buffer.
    case extendedData(Range<UInt64>)
  }

  private let source: any RangeSource
  private let options: TarScanner.Options
  private let totalSize: UInt64
  private var offset: UInt64
  private var buffer: [UInt8] = []
  private var bufferStart: UInt64 = 0
  private var globalPax = PaxRecords()
  private var ended = false
  private(set) var summary = TarScanSummary()
  // The member being assembled: where its first header is, and its extended headers so far.
  private var memberStart: UInt64?
  private var longName: [UInt8]?
  private var longLink: [UInt8]?
  private var entryPax: PaxRecords?
  /// Extended-header data read outside the buffer, with its offset.
  private var fetchedData: (offset: UInt64, bytes: [UInt8])?
  /// A truncation found after a member's header was read; thrown by the next step.
  private(set) var pendingFailure: CotarError?
  /// Progress through the extension blocks of an old GNU sparse header: the header's offset
  /// and the next extension block to look at (kept between steps, as reads may intervene).
  private var sparseExtension: (header: UInt64, next: UInt64)?
  /// The size of the next read-ahead when it adapts (``TarScanner/Options/adaptiveMinimumReadAheadBytes``).
  private var adaptiveReadAhead = 0

  init(scanner: TarScanner, offset: UInt64) async throws {
    self.source = scanner.source
    self.options = scanner.options
    self.totalSize = try await scanner.source.size()
    self.offset = offset
    if offset == 0 && totalSize == 0 {
      throw CotarError(
        .invalidTar, "the file is empty (0 bytes), not a tar; a tar holds at least an end-of-archive block",
        offset: 0, source: scanner.source.identity)
    }
  }

  /// The next member, or `nil` at the end of the archive.
  mutating func next() async throws -> TarEntry? {
    while true {
      switch try step() {
      case .member(let entry): return entry
      case .end: return nil
      case .needs(let request): try await fulfil(request)
      }
    }
  }

  /// Performs a read asked for by ``step()``.
  mutating func fulfil(_ request: Request) async throws {
    switch request {
    case .block(let blockOffset):
      let length = min(UInt64(nextReadAhead(at: blockOffset)), totalSize - blockOffset)
      if UInt64(buffer.count) == length, let local = source as? any SynchronousRangeSource {
        // A local read of the same length (every read-ahead but the last): reuse the buffer's
        // (cache- and TLB-warm) memory instead of a fresh allocation per read.
        bufferStart = blockOffset
        do {
          try buffer.withUnsafeMutableBytes { try local.readSync(blockOffset..<(blockOffset + length), into: $0) }
        } catch {
          buffer = []
          throw error
        }
      } else {
        // Release the old buffer first, so the allocator can hand the same memory to the new
        // one, and only one buffer is alive at a time.
        buffer = []
        buffer = try await source.read(blockOffset..<(blockOffset + length))
        bufferStart = blockOffset
      }
      // Not a tar at all (compressed, another archive format, a shard-set manifest): say
      // what it is, even when it is shorter than one block.
      if blockOffset == 0 {
        let firstBlock = Array(buffer.prefix(TarHeader.blockSize))
        if let format = ForeignFormat.ofFile(startingWith: firstBlock) { throw format.error(for: source.identity) }
        // A first block that is no header: an ISO 9660 image, or data after an end marker.
        try await TarStart.check(firstBlock: firstBlock, buffered: buffer, source: source, totalSize: totalSize)
      }
    case .extendedData(let range):
      fetchedData = (range.lowerBound, try await source.read(range))
    }
  }

  /// The size of the read-ahead at `blockOffset`: fixed, or adapted to the gap since the
  /// last read (see ``TarScanner/Options/adaptiveMinimumReadAheadBytes``).
  private mutating func nextReadAhead(at blockOffset: UInt64) -> Int {
    let maximum = max(options.readAheadBytes, 512)
    guard let configured = options.adaptiveMinimumReadAheadBytes else { return maximum }
    let minimum = min(max(configured, 512), maximum)
    let previousEnd = bufferStart + UInt64(buffer.count)
    if buffer.isEmpty || adaptiveReadAhead == 0 {
      adaptiveReadAhead = minimum
    } else if blockOffset >= previousEnd, blockOffset - previousEnd >= UInt64(maximum) {
      adaptiveReadAhead = minimum
    } else {
      adaptiveReadAhead = min(maximum, adaptiveReadAhead * 2)
    }
    return adaptiveReadAhead
  }

  /// Advances over buffered headers until a member, the end, or a needed read.
  mutating func step() throws -> Step {
    if let pendingFailure { throw pendingFailure }
    guard !ended else { return .end }
    if memberStart == nil { memberStart = offset }
    while true {
      let headerOffset = offset
      guard try isBlockBuffered(at: headerOffset) else {
        if headerOffset >= totalSize { return try finish(at: headerOffset, marker: false) }
        return .needs(.block(headerOffset))
      }
      let header = try withBlock(at: headerOffset) { block throws -> TarHeader? in
        if TarHeader.isZeroBlock(block) { return nil }

        do {
          return try TarHeader(block: block, offset: headerOffset)
        } catch let error as CotarError {
          throw error.withSource(source.identity)
        }
      }
      guard let header else { return try finish(at: headerOffset, marker: true) }
      var dataOffset = headerOffset + UInt64(TarHeader.blockSize)
      if header.hasSparseExtension {
        switch try skipSparseExtension(header: headerOffset, from: dataOffset) {
        case .end(let end): dataOffset = end
        case .needs(let request): return .needs(request)
        }
      }
      switch header.typeflag {
      case UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g"):
        guard let data = try extendedData(header, dataOffset: dataOffset) else {
          return .needs(.extendedData(dataOffset..<(dataOffset + header.size)))
        }
        switch header.typeflag {
        case UInt8(ascii: "L"): longName = Self.trimNul(data)
        case UInt8(ascii: "K"): longLink = Self.trimNul(data)
        case UInt8(ascii: "x"):
          let records = try parsePax(data, dataOffset: dataOffset, header: header)
          entryPax = (entryPax ?? PaxRecords()).merged(with: records)
        default:
          globalPax = globalPax.merged(with: try parsePax(data, dataOffset: dataOffset, header: header))
        }
        offset = try nextHeader(after: dataOffset, size: header.size, path: nil)
        continue
      default:
        break
      }

      // Most archives have no PAX records at all; skip the merge (and its copies) for them.
      let pax: PaxRecords? =
        if let entryPax { globalPax.merged(with: entryPax) } else if globalPax.isEmpty { nil } else { globalPax }
      let isPaxSparse = pax?.isSparse ?? false
      // A sparse member is listed under its real name and size (GNU.sparse.name over the
      // `GNUSparseFile.N/` placeholder path; GNU.sparse.realsize/size or the old GNU
      // realsize over the stored size), as tar -tv lists it; its data is never read (§6).
      let path = (isPaxSparse ? pax?.sparseName : nil) ?? pax?.path ?? longName ?? header.name
      let link = pax?.linkPath ?? longLink ?? header.linkName
      let storedSize = pax?.size ?? header.size
      // Old (v7) archives store a directory as a NUL-typed regular file whose name ends in '/';
      // like tarfile, such a member has no data. (A GNU `D` dump directory does have data.)
      let isV7Directory = header.typeflag == 0 && path.last == UInt8(ascii: "/")
      let kind = isV7Directory ? .directory : Self.kind(of: header.typeflag, isSparse: isPaxSparse)
      let hasData = Self.hasData(header.typeflag) && !isV7Directory
      let size = hasData ? storedSize : 0
      let listedSize =
        kind == .sparse ? ((isPaxSparse ? pax?.sparseRealSize : nil) ?? header.sparseRealSize ?? size) : size
      if let invalid = pax?.invalidMtime {
        throw CotarError(
          .invalidTar,
          "malformed PAX mtime record '\(String(decoding: invalid.value.prefix(64), as: UTF8.self))': not a time in seconds (such as 1700000000 or -12.5)",
          offset: invalid.offset, path: String(decoding: path, as: UTF8.self), source: source.identity)
      }
      do {
        offset = try nextHeader(after: dataOffset, size: size, path: path, header: memberStart ?? headerOffset)
      } catch let error as CotarError where error.code == .truncated {
        // The header was read but the data is cut: yield the member (a listing shows it, as
        // GNU tar does), then fail on the next step.
        pendingFailure = error
      }
      summary.members += 1
      if !kind.isIndexed { summary.skipped[kind.description, default: 0] += 1 }
      let isLink = kind == .hardLink || kind == .symbolicLink
      let entry = TarEntry(
        pathBytes: path, kind: kind, headerOffset: memberStart ?? headerOffset, dataOffset: dataOffset,
        size: kind == .hardLink ? 0 : listedSize, linkTargetBytes: isLink ? link : nil, mode: header.mode,
        mtime: pax?.mtime ?? header.mtime)
      memberStart = nil
      longName = nil
      longLink = nil
      entryPax = nil
      return .member(entry)
    }
  }

  /// A member of the common shape, parsed in place by ``stepPlain(_:)``: a regular file, a
  /// directory or a symbolic link with no extended header, described by the hash of its path.
  struct PlainMember {
    /// `.file`, `.directory` or `.symbolicLink`.
    var kind: TarEntry.Kind
    /// FNV-1a 64 of the path bytes (the ustar prefix, a `/` and the name, as ``step()`` joins them).
    var pathHash: UInt64
    /// Offset of the member's header block.
    var headerOffset: UInt64
    /// Offset of its first data byte (the block after the header).
    var dataOffset: UInt64
    /// The data size (0 for a directory or a symbolic link).
    var size: UInt64
  }

  /// Parses the next member without allocating when it is a ``PlainMember`` whose header is
  /// buffered, and no extended header, global PAX record or earlier failure is pending; the
  /// same checks as ``step()`` (checksum, numeric fields, bounds of the data) are made on the
  /// same bytes. `accept` sees the member, and its 512-byte header block (valid only during
  /// the call), before the walker moves past it.
  ///
  /// - Returns: the member when it was parsed and `accept` returned `true`; `nil`, with the
  ///   walker unchanged, for anything else (another kind of member, a header that is not
  ///   buffered, the end, a malformed header, or `accept` refusing). The caller then calls
  ///   ``step()``, which handles (or reports) that member in full.
  @inline(__always)
  mutating func stepPlain(_ accept: (PlainMember, UnsafeRawBufferPointer) -> Bool) -> PlainMember? {
    guard pendingFailure == nil, !ended, longName == nil, longLink == nil, entryPax == nil, globalPax.isEmpty,
      sparseExtension == nil
    else { return nil }
    let headerOffset = offset
    guard memberStart == nil || memberStart == headerOffset, headerOffset >= bufferStart else { return nil }
    let start = Int(headerOffset - bufferStart)
    guard start <= buffer.count - 512 else { return nil }
    let totalSize = self.totalSize
    let accepted: PlainMember? = buffer.withUnsafeBytes { raw -> PlainMember? in
      let block = UnsafeRawBufferPointer(rebasing: raw[start..<(start + 512)])
      guard let member = Self.plainMember(block, at: headerOffset) else { return nil }
      let (end, overflow) = member.dataOffset.addingReportingOverflow(member.size)
      guard !overflow, end <= totalSize, accept(member, block) else { return nil }
      return member
    }
    guard let member = accepted else { return nil }
    let end = member.dataOffset + member.size
    let padded = (end + 511) & ~511
    offset = padded < end ? end : padded
    summary.members += 1
    if member.kind != .file { summary.skipped[member.kind.description, default: 0] += 1 }
    memberStart = nil
    return member
  }

  /// The member whose header is `block` (at `headerOffset`) when it is a ``PlainMember`` with
  /// a valid checksum and size; `nil` for anything else (left to ``step()``).
  @inline(__always)
  private static func plainMember(_ block: UnsafeRawBufferPointer, at headerOffset: UInt64) -> PlainMember? {
    let typeflag = block[156]
    let kind: TarEntry.Kind
    switch typeflag {
    case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
    case UInt8(ascii: "5"): kind = .directory
    case UInt8(ascii: "2"): kind = .symbolicLink
    default: return nil
    }
    guard block[0] != 0 || !TarHeader.isZeroBlock(block),
      let stored = TarHeader.plainOctal(block, from: 148, count: 8),
      TarHeader.checksum(of: block, matches: stored).0,
      let storedSize = TarHeader.plainOctal(block, from: 124, count: 12)
    else { return nil }
    // The path: the name, after the POSIX ustar prefix and a `/` when there is one.
    var hash = PathHash.offsetBasis
    var last: UInt8? = nil
    if TarHeader.isPosixUstar(block), block[345] != 0 {
      var index = 345
      while index < 500, block[index] != 0 {
        hash = (hash ^ UInt64(block[index])) &* PathHash.prime
        index += 1
      }
      hash = (hash ^ 0x2F) &* PathHash.prime
      last = 0x2F
    }
    var index = 0
    while index < 100, block[index] != 0 {
      hash = (hash ^ UInt64(block[index])) &* PathHash.prime
      index += 1
    }
    if index > 0 { last = block[index - 1] }
    // A v7 directory (NUL-typed, name ending in `/`) takes the general path.
    if kind == .file && last == 0x2F && typeflag == 0 { return nil }
    let size = kind == .file ? storedSize : 0
    return PlainMember(
      kind: kind, pathHash: hash, headerOffset: headerOffset, dataOffset: headerOffset + 512, size: size)
  }

  /// Where the extension blocks of an old GNU sparse header end (and its data begins).
  enum SparseExtensionSkip {
    case end(UInt64)
    case needs(Request)
  }

  /// Walks the extension blocks after an old GNU sparse header at `header`: each block holds
  /// 21 sparse map entries (504 bytes) and, at byte 504, whether another block follows.
  private mutating func skipSparseExtension(header: UInt64, from first: UInt64) throws -> SparseExtensionSkip {
    var block = sparseExtension?.header == header ? (sparseExtension?.next ?? first) : first
    while true {
      guard block + 512 <= totalSize else {
        throw CotarError(
          .truncated, "archive is truncated: an old GNU sparse extension block at \(block) runs past the end of the file (\(totalSize) bytes)",
          offset: block, source: source.identity)
      }
      let continues: Bool
      if try isBlockBuffered(at: block) {
        continues = withBlock(at: block) { $0[504] != 0 }
      } else if let fetched = fetchedData, fetched.offset == block, fetched.bytes.count == 512 {
        continues = fetched.bytes[504] != 0
        fetchedData = nil
      } else {
        sparseExtension = (header, block)
        return .needs(.extendedData(block..<(block + 512)))
      }
      block += 512
      sparseExtension = (header, block)
      if !continues {
        sparseExtension = nil
        return .end(block)
      }
    }
  }

  private mutating func finish(at endOffset: UInt64, marker: Bool) throws -> Step {
    if longName != nil || longLink != nil || entryPax != nil {
      // Name the extended header: the end offset can lie past the file (unpadded final data).
      throw CotarError(
        .invalidTar, "extended header (GNU long name or PAX) is not followed by a member before the archive ends",
        offset: memberStart ?? min(endOffset, totalSize), source: source.identity)
    }
    ended = true
    summary.endOffset = endOffset
    summary.hasEndMarker = marker
    return .end
  }

  private static func kind(of typeflag: UInt8, isSparse: Bool) -> TarEntry.Kind {
    switch typeflag {
    case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): isSparse ? .sparse : .file
    case UInt8(ascii: "1"): .hardLink
    case UInt8(ascii: "2"): .symbolicLink
    case UInt8(ascii: "3"), UInt8(ascii: "4"): .device
    case UInt8(ascii: "5"), UInt8(ascii: "D"): .directory
    case UInt8(ascii: "6"): .fifo
    case UInt8(ascii: "S"): .sparse
    default: .other(typeflag)
    }
  }

  /// Whether data blocks follow a header of this type (as Python `tarfile` decides).
  private static func hasData(_ typeflag: UInt8) -> Bool {
    switch typeflag {
    case UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "4"),
      UInt8(ascii: "5"), UInt8(ascii: "6"):
      false
    default: true
    }
  }

  private static func trimNul(_ bytes: [UInt8]) -> [UInt8] {
    guard let end = bytes.firstIndex(of: 0) else { return bytes }
    return Array(bytes[..<end])
  }

  /// The records of the PAX header `header` whose data is `data`; an error names the
  /// extended header by its own name (the member it describes is not known yet).
  private func parsePax(_ data: [UInt8], dataOffset: UInt64, header: TarHeader) throws -> PaxRecords {
    do {
      return try PaxRecords(parsing: data, dataOffset: dataOffset)
    } catch {
      var error = error
      if error.path == nil, !header.name.isEmpty { error.path = String(decoding: header.name, as: UTF8.self) }
      throw error.withSource(source.identity)
    }
  }

  /// The offset of the header after data of `size` bytes at `dataOffset`, checking bounds.
  private func nextHeader(after dataOffset: UInt64, size: UInt64, path: [UInt8]?, header: UInt64? = nil) throws -> UInt64 {
    let (end, overflow) = dataOffset.addingReportingOverflow(size)
    guard !overflow, end <= totalSize else {
      let headed = header.map { " (header at \($0))" } ?? ""
      throw CotarError(
        .truncated,
        "archive is truncated: member data of \(size) bytes at \(dataOffset)\(headed) runs past the end of the file (\(totalSize) bytes)",
        offset: dataOffset, path: path.map { String(decoding: $0, as: UTF8.self) }, source: source.identity)
    }
    let padded = (end + 511) & ~511
    return padded < end ? end : padded
  }

  /// The data of an extended header (GNU long name/link, PAX record set), or `nil` when it
  /// must first be read (``Request/extendedData(_:)``).
  private mutating func extendedData(_ header: TarHeader, dataOffset: UInt64) throws -> [UInt8]? {
    guard header.size <= UInt64(options.maximumExtendedHeaderBytes) else {
      throw CotarError(
        .invalidTar,
        "extended header of \(header.size) bytes exceeds the limit of \(options.maximumExtendedHeaderBytes) bytes",
        offset: dataOffset - 512, source: source.identity)
    }
    _ = try nextHeader(after: dataOffset, size: header.size, path: nil)
    let end = dataOffset + header.size
    if dataOffset >= bufferStart, end <= bufferStart + UInt64(buffer.count) {
      let start = Int(dataOffset - bufferStart)
      return Array(buffer[start..<(start + Int(header.size))])
    }
    if let fetched = fetchedData, fetched.offset == dataOffset, fetched.bytes.count == Int(header.size) {
      fetchedData = nil
      return fetched.bytes
    }
    return nil
  }

  /// Whether the 512 bytes at `blockOffset` are buffered; `false` when they must be read or
  /// the file ends exactly there.
  ///
  /// - Throws: `.truncated` when the file ends inside the block.
  private func isBlockBuffered(at blockOffset: UInt64) throws -> Bool {
    if blockOffset >= bufferStart, blockOffset + 512 <= bufferStart + UInt64(buffer.count) { return true }
    if blockOffset >= totalSize { return false }  // EOF on a header boundary, or after unpadded final data
    // Read the start of a short file before calling it truncated: it may be compressed.
    if blockOffset == 0 && (buffer.isEmpty || bufferStart != 0) { return false }
    guard blockOffset + 512 <= totalSize else {
      throw CotarError(
        .truncated,
        "archive is truncated: a tar header at \(blockOffset) needs 512 bytes but the file ends at \(totalSize)",
        offset: blockOffset, source: source.identity)
    }
    return false
  }

  private func withBlock<T>(
    at blockOffset: UInt64, _ body: (UnsafeRawBufferPointer) throws -> T
  ) rethrows -> T {
    let start = Int(blockOffset - bufferStart)
    return try buffer.withUnsafeBytes { raw in
      try body(UnsafeRawBufferPointer(rebasing: raw[start..<(start + 512)]))
    }
  }
}
