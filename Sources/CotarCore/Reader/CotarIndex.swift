/// A read-only view of a Cotar v2 hash index stored in a ``RangeSource``.
///
/// A lookup reads one window of consecutive slots starting at the path's home slot
/// (`hash % slotCount`, wrapping at the end of the table) and continues with further windows
/// only when the window held neither the path nor an empty slot. Slots already in memory
/// (from the speculative first read, or ``loadedIntoMemory()``) cost no I/O.
public struct CotarIndex: Sendable {
  /// Tuning of lookups.
  public struct LookupOptions: Sendable, Hashable {
    /// Slots fetched per read (default 64 slots = 1 KiB, more than the default max search + 1).
    public var windowSlots: Int = 64

    /// Creates options.
    public init(windowSlots: Int = 64) { self.windowSlots = max(1, windowSlots) }
  }

  /// Slots whose bytes are already in memory (a copy, or a mapping of the local file).
  struct ResidentSlots: Sendable {
    /// Index of the first slot held.
    var firstSlot: UInt64
    /// Bytes of consecutive slots, a multiple of 16.
    var memory: SlotMemory
    var slotCount: UInt64 { UInt64(memory.count / CotarFormat.recordSize) }

    init(firstSlot: UInt64, bytes: some Collection<UInt8>) {
      self.firstSlot = firstSlot
      self.memory = SlotMemory(copying: bytes)
    }

    init(firstSlot: UInt64, memory: SlotMemory) {
      self.firstSlot = firstSlot
      self.memory = memory
    }

    /// A copy of the bytes of slots `slots` (which this covers).
    func bytes(of slots: Range<UInt64>) -> [UInt8] {
      let start = Int(slots.lowerBound - firstSlot) * CotarFormat.recordSize
      return Array(memory.buffer[start..<(start + slots.count * CotarFormat.recordSize)])
    }

    func covers(_ slots: Range<UInt64>) -> Bool {
      slots.lowerBound >= firstSlot && slots.upperBound <= firstSlot + slotCount
    }
  }

  /// The validated header.
  public let header: CotarIndexHeader
  /// Byte offset of the index header within the source (0 for a sidecar).
  public let baseOffset: UInt64
  /// The source holding the index.
  public let source: any RangeSource
  /// Lookup tuning.
  public var lookupOptions: LookupOptions
  let resident: ResidentSlots?
  /// The whole table when every slot is in memory: a raw view of `resident`'s memory (kept
  /// alive by `resident`), so an in-memory lookup touches no reference count.
  private let wholeTable: RawTable?

  /// A raw view of memory owned elsewhere (immutable; shared across threads read-only).
  struct RawTable: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
  }

  /// Trusts already-known metadata and performs no I/O.
  public init(
    source: any RangeSource, baseOffset: UInt64, header: CotarIndexHeader,
    lookupOptions: LookupOptions = LookupOptions()
  ) {
    self.init(source: source, baseOffset: baseOffset, header: header, lookupOptions: lookupOptions, resident: nil)
  }

  init(
    source: any RangeSource, baseOffset: UInt64, header: CotarIndexHeader, lookupOptions: LookupOptions,
    resident: ResidentSlots?
  ) {
    self.source = source
    self.baseOffset = baseOffset
    self.header = header
    self.lookupOptions = lookupOptions
    self.resident = resident
    let slots = UInt64(header.slotCount)
    if let resident, resident.firstSlot == 0, resident.slotCount >= slots, slots > 0 {
      self.wholeTable = RawTable(
        bytes: UnsafeRawBufferPointer(start: resident.memory.base, count: Int(slots) * CotarFormat.recordSize))
    } else {
      self.wholeTable = nil
    }
  }

  /// The number of slots.
  public var slotCount: UInt64 { UInt64(header.slotCount) }

  /// Whether every slot is in memory (lookups then do no index I/O).
  public var isResident: Bool { resident?.covers(0..<slotCount) ?? (slotCount == 0) }

  /// Whether the slots are a read-only memory mapping of the local index file (see
  /// ``mapped()``) rather than a copy or windows read on demand.
  public var isMapped: Bool { resident?.memory.isMapped ?? false }

  /// Opens a standalone index (`.tar.index`, header at byte 0) with one prefix read.
  ///
  /// The first `speculativeBytes` are read at once; when the whole index fits, it stays in
  /// memory and lookups need no further index reads.
  /// - Throws: `CotarError` `.invalidMagic`, `.unsupportedVersion`, `.truncated`, or
  ///   `.corruptIndex` when the file size does not match the slot count or the footer differs.
  public static func open(
    sidecar source: any RangeSource, speculativeBytes: Int = 64 << 10, lookupOptions: LookupOptions = LookupOptions()
  ) async throws -> CotarIndex {
    try await open(sidecar: source, speculativeBytes: speculativeBytes, lookupOptions: lookupOptions, keepingRead: false)
  }

  /// ``open(sidecar:speculativeBytes:lookupOptions:)``; with `keepingRead`, a remote index's
  /// ``source`` is a ``PrefetchedSource`` holding the prefix read (see ``keeping(_:at:totalSize:in:)``).
  static func open(
    sidecar source: any RangeSource, speculativeBytes: Int, lookupOptions: LookupOptions, keepingRead: Bool
  ) async throws -> CotarIndex {
    let (bytes, totalSize) = try await source.readPrefix(count: max(speculativeBytes, CotarFormat.headerSize))
    let header: CotarIndexHeader
    do {
      header = try CotarIndexHeader(parsing: bytes, at: 0, sourceOffset: 0)
    } catch {
      throw error.withSource(source.identity)
    }
    guard totalSize == header.indexSize else {
      throw CotarError(
        .corruptIndex,
        "index file is \(totalSize) bytes but its header announces \(header.slotCount) slots (\(header.indexSize) bytes); the file is truncated or not a sidecar index",
        offset: 0, source: source.identity)
    }
    if UInt64(bytes.count) == totalSize {
      try checkFooter(bytes, at: bytes.count - CotarFormat.headerSize, matches: header, offset: totalSize - 8, source: source)
    } else if isLocal(source) {
      // A local index larger than the speculative read: one more small read checks the footer.
      let footer = try await source.read((totalSize - 8)..<totalSize)
      try checkFooter(footer, at: 0, matches: header, offset: totalSize - 8, source: source)
    }
    let slotBytes = min(bytes.count - CotarFormat.headerSize, Int(header.slotCount) * CotarFormat.recordSize)
    let whole = slotBytes / CotarFormat.recordSize * CotarFormat.recordSize
    let resident = ResidentSlots(firstSlot: 0, bytes: bytes[CotarFormat.headerSize..<(CotarFormat.headerSize + whole)])
    return CotarIndex(
      source: keepingRead ? keeping(bytes, at: 0, totalSize: totalSize, in: source) : source, baseOffset: 0,
      header: header, lookupOptions: lookupOptions, resident: resident)
  }

  /// Locates an index appended to the end of `source` (a `.tar.co`) through its footer.
  ///
  /// One suffix read of `speculativeBytes` returns the footer and the total size; the index
  /// starts at `size − (slots × 16 + 16)`. When the whole index fits in that read it stays in
  /// memory and the header is checked against the footer.
  /// - Throws: `CotarError` `.invalidMagic` when there is no footer, `.unsupportedVersion`,
  ///   `.truncated`, or `.corruptIndex` when the index would not fit the source or header and
  ///   footer differ.
  public static func trailing(
    in source: any RangeSource, speculativeBytes: Int = 64 << 10, lookupOptions: LookupOptions = LookupOptions()
  ) async throws -> CotarIndex {
    try await trailing(in: source, speculativeBytes: speculativeBytes, lookupOptions: lookupOptions, keepingRead: false)
  }

  /// ``trailing(in:speculativeBytes:lookupOptions:)``; with `keepingRead`, a remote index's
  /// ``source`` is a ``PrefetchedSource`` holding the suffix read (see ``keeping(_:at:totalSize:in:)``).
  static func trailing(
    in source: any RangeSource, speculativeBytes: Int, lookupOptions: LookupOptions, keepingRead: Bool
  ) async throws -> CotarIndex {
    let (bytes, totalSize) = try await source.readSuffix(count: max(speculativeBytes, CotarFormat.headerSize))
    let footerStart = bytes.count - CotarFormat.headerSize
    let header: CotarIndexHeader
    do {
      header = try CotarIndexHeader(
        parsing: bytes, at: max(0, footerStart), sourceOffset: totalSize - UInt64(min(bytes.count, 8)))
    } catch {
      throw error.withSource(source.identity)
    }
    guard header.indexSize <= totalSize else {
      throw CotarError(
        .corruptIndex,
        "footer announces \(header.slotCount) slots (\(header.indexSize) bytes) but the file is only \(totalSize) bytes",
        offset: totalSize - 8, source: source.identity)
    }
    let baseOffset = totalSize - header.indexSize
    let suffixStart = totalSize - UInt64(bytes.count)
    let resident: ResidentSlots
    if suffixStart <= baseOffset {
      let headerAt = Int(baseOffset - suffixStart)
      try checkFooter(bytes, at: headerAt, matches: header, offset: baseOffset, source: source)
      resident = ResidentSlots(firstSlot: 0, bytes: bytes[(headerAt + CotarFormat.headerSize)..<footerStart])
    } else {
      if isLocal(source) {
        // A local index larger than the speculative read: one more small read checks the header.
        let headerBytes = try await source.read(baseOffset..<(baseOffset + 8))
        try checkFooter(headerBytes, at: 0, matches: header, offset: baseOffset, source: source)
      }
      let slotsStart = baseOffset + UInt64(CotarFormat.headerSize)
      let delta = suffixStart > slotsStart ? suffixStart - slotsStart : 0
      let skip = Int((delta + 15) / 16) * 16
      let firstByte = Int(slotsStart + UInt64(skip) - suffixStart)
      resident = ResidentSlots(
        firstSlot: UInt64(skip / 16), bytes: firstByte < footerStart ? bytes[firstByte..<footerStart] : [])
    }
    return CotarIndex(
      source: keepingRead ? keeping(bytes, at: suffixStart, totalSize: totalSize, in: source) : source,
      baseOffset: baseOffset, header: header, lookupOptions: lookupOptions, resident: resident)
  }

  /// Where the tar data of `source` ends when a Cotar index is appended to it (a `.tar.co`
  /// whose header and footer agree): the index's start. `nil` for anything else, such as a
  /// plain tar. Costs two 8-byte reads.
  ///
  /// - Throws: what the source throws.
  public static func tarDataEnd(of source: any RangeSource) async throws -> UInt64? {
    let size = try await source.size()
    guard size >= 16 else { return nil }
    let footer = try await source.read((size - 8)..<size)
    guard let header = try? CotarIndexHeader(parsing: footer, at: 0), header.indexSize <= size else { return nil }
    let base = size - header.indexSize
    guard try await source.read(base..<(base + 8)) == footer else { return nil }
    return base
  }

  /// The local file behind `source`: itself, or under a ``BlockCacheSource`` or a
  /// ``CountingSource``; `nil` for anything else.
  package static func localFile(of source: any RangeSource) -> FileSource? {
    if let file = source as? FileSource { return file }
    if let cached = source as? BlockCacheSource { return localFile(of: cached.base) }
    if let counting = source as? CountingSource { return localFile(of: counting.base) }
    return nil
  }

  /// `source` wrapped in a ``PrefetchedSource`` holding `bytes` (read from it at `start`), so
  /// later reads inside them cost no I/O; a local source (which reads them again for a
  /// syscall, and has faster paths of its own) or an empty read is returned unchanged.
  static func keeping(_ bytes: [UInt8], at start: UInt64, totalSize: UInt64, in source: any RangeSource) -> any RangeSource {
    guard !bytes.isEmpty, !isLocal(source), !(source is PrefetchedSource) else { return source }
    return PrefetchedSource(source, window: bytes, at: start, totalSize: totalSize)
  }

  /// Whether `source` reads local bytes (a ``SynchronousRangeSource``, possibly behind a
  /// ``CountingSource``): an extra 8-byte read is then nearly free.
  static func isLocal(_ source: any RangeSource) -> Bool {
    if source is any SynchronousRangeSource { return true }
    if let counting = source as? CountingSource { return isLocal(counting.base) }
    return false
  }

  private static func checkFooter(
    _ bytes: [UInt8], at position: Int, matches header: CotarIndexHeader, offset: UInt64, source: any RangeSource
  ) throws {
    guard Array(bytes[position..<(position + 8)]) == header.serialized() else {
      throw CotarError(
        .corruptIndex, "index header and footer differ; the index is damaged, rebuild it", offset: offset,
        source: source.identity)
    }
  }

  /// A copy whose window reads go through `cache` in aligned blocks of `blockSize` bytes, so
  /// later lookups near an earlier one need no index I/O. Does no I/O itself; a fully
  /// resident index is returned unchanged.
  public func cachingWindows(in cache: BlockCache, blockSize: Int = 4096) -> CotarIndex {
    if isResident || source is BlockCacheSource { return self }
    let cached = BlockCacheSource(source, limit: baseOffset + header.indexSize, blockSize: blockSize, cache: cache)
    return CotarIndex(
      source: cached, baseOffset: baseOffset, header: header, lookupOptions: lookupOptions, resident: resident)
  }

  /// A copy with every slot in memory (one read of the whole table), for hot local use.
  ///
  /// - Throws: as ``RangeSource/read(_:)``.
  public func loadedIntoMemory() async throws -> CotarIndex {
    if isResident { return self }
    let uncached = (source as? BlockCacheSource)?.base ?? source
    let bytes = try await uncached.read(baseOffset..<(baseOffset + header.indexSize))
    try Self.checkFooter(bytes, at: 0, matches: header, offset: baseOffset, source: uncached)
    try Self.checkFooter(bytes, at: bytes.count - 8, matches: header, offset: baseOffset + header.indexSize - 8, source: uncached)
    return CotarIndex(
      source: uncached, baseOffset: baseOffset, header: header, lookupOptions: lookupOptions,
      resident: ResidentSlots(firstSlot: 0, bytes: bytes[8..<(bytes.count - 8)]))
  }

  /// A copy whose slots are a read-only memory mapping (`mmap`, `MADV_RANDOM`) of the index
  /// in a local file, so a lookup is a memory access to the page cache and no `pread`. The
  /// file's size is checked again (`fstat`) and the header and footer are compared in the
  /// mapping. Returned unchanged when the index is already wholly in memory, or its source is
  /// not a ``FileSource`` (possibly behind a ``BlockCacheSource`` or a ``CountingSource``,
  /// which then counts no index reads).
  ///
  /// If another process truncates the file while it is mapped, a lookup touching a page past
  /// the new end raises `SIGBUS` (SPEC §8.4): turn mapping off
  /// (``Cotar/OpenOptions/mapLocalIndex``) for files that may be truncated in place.
  /// - Throws: `CotarError` `.truncated` when the file shrank since it was opened,
  ///   `.corruptIndex` when header and footer differ, `.io` when it cannot be mapped.
  public func mapped() throws -> CotarIndex {
    if isResident { return self }
    guard let file = Self.localFile(of: source) else { return self }
    let slotBytes = Int(header.slotCount) * CotarFormat.recordSize
    let memory = try file.mapSlots(
      baseOffset..<(baseOffset + header.indexSize), skip: CotarFormat.headerSize, count: slotBytes)
    let head = UnsafeRawBufferPointer(start: memory.base - CotarFormat.headerSize, count: CotarFormat.headerSize)
    let foot = UnsafeRawBufferPointer(start: memory.base + slotBytes, count: CotarFormat.headerSize)
    let expected = header.serialized()
    guard head.elementsEqual(expected), foot.elementsEqual(expected) else {
      throw CotarError(
        .corruptIndex, "index header and footer differ; the index is damaged, rebuild it",
        offset: head.elementsEqual(expected) ? baseOffset + header.indexSize - 8 : baseOffset, source: file.identity)
    }
    return CotarIndex(
      source: (source as? BlockCacheSource)?.base ?? source, baseOffset: baseOffset, header: header,
      lookupOptions: lookupOptions, resident: ResidentSlots(firstSlot: 0, memory: memory))
  }

  /// Resolves a path hash without I/O when every slot is in memory.
  ///
  /// - Returns: `.resolved(entry)` (`nil` entry: absent), or `.needsIO` when the table is not
  ///   fully in memory (use ``lookup(hash:)``).
  @inline(__always)
  public func lookupInMemory(hash: UInt64) -> InMemoryLookup {
    guard slotCount > 0, hash != 0 else { return .resolved(nil) }
    guard let wholeTable else { return .needsIO }
    return .resolved(Self.probe(wholeTable.bytes, slotCount: slotCount, hash: hash))
  }

  /// The outcome of ``lookupInMemory(hash:)``.
  public enum InMemoryLookup: Sendable, Hashable {
    /// The lookup finished: the entry, or `nil` when the path is absent.
    case resolved(CotarEntry?)
    /// Some slots are not in memory; an I/O lookup is needed.
    case needsIO
  }

  /// Resolves `path` (hashed as its UTF-8 bytes); `nil` when it is not indexed.
  ///
  /// - Throws: `CotarError` from the source.
  public func lookup(_ path: String) async throws -> CotarEntry? {
    try await lookup(hash: PathHash.fnv1a64(path))
  }

  /// Resolves raw path bytes (for names that are not valid UTF-8); `nil` when not indexed.
  ///
  /// - Throws: `CotarError` from the source.
  public func lookup(pathBytes: [UInt8]) async throws -> CotarEntry? {
    try await lookup(hash: PathHash.fnv1a64(bytes: pathBytes))
  }

  /// Resolves a path hash; `nil` when no slot holds it. Probes at most `slotCount` slots.
  ///
  /// - Throws: `CotarError` from the source.
  public func lookup(hash: UInt64) async throws -> CotarEntry? {
    guard slotCount > 0, hash != 0 else { return nil }
    if let wholeTable { return Self.probe(wholeTable.bytes, slotCount: slotCount, hash: hash) }
    var slot = hash % slotCount
    var visited: UInt64 = 0
    // The first window is the configured one (enough for any valid index built with default
    // options); later ones grow 4× per read up to 16 MiB, so a long run of filled slots (a
    // corrupt or hostile table) costs O(log S) reads, not S / window.
    var window = UInt64(lookupOptions.windowSlots)
    while visited < slotCount {
      defer { window = max(window, min(window.multipliedReportingOverflow(by: 4).partialValue, Self.largestWindowSlots)) }
      let count = min(window, slotCount - slot, slotCount - visited)
      let outcome: WindowScan
      if let resident, resident.covers(slot..<(slot + count)) {
        let start = Int(slot - resident.firstSlot) * CotarFormat.recordSize
        outcome = Self.scan(resident.memory.buffer, from: start, slots: Int(count), hash: hash)
      } else {
        let first = baseOffset + UInt64(CotarFormat.headerSize) + slot * 16
        let bytes = try await source.read(first..<(first + count * 16))
        outcome = bytes.withUnsafeBytes { Self.scan($0, from: 0, slots: Int(count), hash: hash) }
      }
      switch outcome {
      case .found(let entry): return entry
      case .absent: return nil
      case .notInWindow: break
      }
      visited += count
      slot = (slot + count) % slotCount
    }
    return nil
  }

  /// The largest window a lookup grows to (1 Mi slots, 16 MiB).
  static let largestWindowSlots: UInt64 = 1 << 20

  /// What a scan of one window found.
  private enum WindowScan {
    case found(CotarEntry)
    case absent
    case notInWindow
  }

  /// Scans `slots` slots of `bytes` from byte `start` for `hash`.
  private static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int, slots: Int, hash: UInt64) -> WindowScan {
    for index in 0..<slots {
      let at = start + index * CotarFormat.recordSize
      guard at + CotarFormat.recordSize <= bytes.count else { break }
      let slotHash = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
      if slotHash == hash { return .found(entry(in: bytes, at: at, hash: slotHash)) }
      if slotHash == 0 { return .absent }
    }
    return .notInWindow
  }

  /// The entry of the slot at byte `at` of `bytes`.
  @inline(__always)
  private static func entry(in bytes: UnsafeRawBufferPointer, at: Int, hash: UInt64) -> CotarEntry {
    let block = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self))
    let size = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
    return CotarIndexRecord(hash: hash, blockOffset: block, size: size).entry
  }

  /// The probe of ``lookup(hash:)`` over a table wholly in memory: no windows, no I/O.
  /// `slots` holds exactly `slotCount` slots.
  @inline(__always)
  private static func probe(_ slots: UnsafeRawBufferPointer, slotCount: UInt64, hash: UInt64) -> CotarEntry? {
    let count = Int(slotCount)
    var slot = Int(hash % slotCount)
    for _ in 0..<count {
      let at = slot &* CotarFormat.recordSize
      let slotHash = UInt64(littleEndian: slots.loadUnaligned(fromByteOffset: at, as: UInt64.self))
      if slotHash == hash { return entry(in: slots, at: at, hash: slotHash) }
      if slotHash == 0 { return nil }
      slot &+= 1
      if slot == count { slot = 0 }
    }
    return nil
  }

  /// Reads the whole index in chunks of at most `slotsPerRead` slots, in table order, and
  /// checks that the header and the footer are the same 8 bytes (SPEC §3). Memory stays
  /// bounded by one chunk, whatever slot count the index claims.
  ///
  /// - Parameters:
  ///   - slotsPerRead: slots per read (default 64 Ki slots, 1 MiB).
  ///   - body: called with the number of the chunk's first slot and the chunk's bytes (a
  ///     multiple of 16).
  /// - Throws: `CotarError` `.corruptIndex` when header and footer differ, what the source
  ///   throws, or what `body` throws.
  public func forEachSlotChunk(
    slotsPerRead: Int = 1 << 16, _ body: (_ firstSlot: UInt64, _ bytes: [UInt8]) throws -> Void
  ) async throws {
    let uncached = (source as? BlockCacheSource)?.base ?? source
    let headerBytes = try await uncached.read(baseOffset..<(baseOffset + 8))
    try Self.checkFooter(headerBytes, at: 0, matches: header, offset: baseOffset, source: uncached)
    let footerOffset = baseOffset + header.indexSize - 8
    let footerBytes = try await uncached.read(footerOffset..<(footerOffset + 8))
    try Self.checkFooter(footerBytes, at: 0, matches: header, offset: footerOffset, source: uncached)
    let chunk = UInt64(max(1, slotsPerRead))
    var first: UInt64 = 0
    while first < slotCount {
      let count = min(chunk, slotCount - first)
      if let resident, resident.covers(first..<(first + count)) {
        try body(first, resident.bytes(of: first..<(first + count)))
      } else {
        let at = baseOffset + UInt64(CotarFormat.headerSize) + first * 16
        try body(first, try await uncached.read(at..<(at + count * 16)))
      }
      first += count
    }
  }

  /// Every slot in table order, empty ones included (reads the whole table once).
  ///
  /// - Throws: as ``RangeSource/read(_:)``.
  public func allRecords() async throws -> [CotarIndexRecord] {
    let loaded = try await loadedIntoMemory()
    guard let resident = loaded.resident else { return [] }
    let bytes = resident.memory.buffer
    return (0..<Int(resident.slotCount)).map { slot in
      let at = slot * CotarFormat.recordSize
      return CotarIndexRecord(
        hash: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
        blockOffset: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self)),
        size: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self)))
    }
  }
}
