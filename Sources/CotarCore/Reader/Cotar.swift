/// A tar archive plus its Cotar index, resolving entries with a few range reads.
///
/// Open a combined `.tar.co` with ``open(_:options:)`` or a `.tar` with its `.tar.index`
/// sidecar with ``open(tar:index:options:)``. A cold lookup on a large index costs one read
/// of the footer or header (done at open), one window read, and one data read.
public struct Cotar: Sendable {
  /// How to open an archive.
  public struct OpenOptions: Sendable, Hashable {
    /// Bytes read speculatively at open (suffix for `.tar.co`, prefix for a sidecar).
    public var speculativeBytes: Int = 64 << 10
    /// Read the whole index into memory at open, so lookups do no index I/O.
    public var loadIndexIntoMemory = false
    /// Lookup tuning.
    public var lookup = CotarIndex.LookupOptions()
    /// Where index windows of a remote (non-``SynchronousRangeSource``) index are cached across
    /// lookups (`nil`: not cached). The default is a new 8 MiB cache per opened archive; pass
    /// one ``BlockCache`` to several opens to share one memory bound. Local files and memory
    /// are read directly: the page cache serves a window faster than this cache can, and an
    /// index larger than the cache would thrash it. Entry data is never cached here (the bytes
    /// of the speculative read are kept apart: see ``keepSpeculativeRead``).
    public var indexCache: BlockCache? = BlockCache(capacityBytes: 8 << 20)
    /// Bytes per cached index block; a window read is widened to whole blocks.
    public var indexBlockSize = 4096
    /// Map an index in a local file (a ``FileSource``) read-only into memory (`mmap`,
    /// `MADV_RANDOM`; see ``CotarIndex/mapped()``) instead of reading a window per lookup
    /// (default `true`). A lookup is then a memory access and one data `pread`. Turn it off
    /// for files another process may truncate in place (SPEC §8.4); the CLI turns it off with
    /// `COTAR_NO_MMAP=1`. Ignored when ``loadIndexIntoMemory`` is set, for small indexes read
    /// whole at open, and for other sources (a ``CountingSource`` around a file is mapped too,
    /// and counts no index reads).
    public var mapLocalIndex = true
    /// Keep the bytes of the speculative read of a remote source (one ``PrefetchedSource``
    /// window, at most ``speculativeBytes``, for as long as the archive is open) and answer
    /// later reads inside them from memory: entry data near the end of a `.tar.co`, its name
    /// table, the index header and footer, or everything when the first answer held the whole
    /// object (default `true`; SPEC §8.3). The window is independent of ``indexCache``: it is
    /// bytes already fetched from the pinned version of the object, not a cache that grows.
    /// Local sources are never wrapped (they read such bytes again for a syscall). A
    /// long-running reader that must notice a replaced object on its next data read (such as
    /// one behind ``ReopeningCotar``; `cotar serve` does so) turns it off: bytes answered from
    /// the window are those of the version opened.
    public var keepSpeculativeRead = true

    /// Creates options with the defaults.
    public init(
      speculativeBytes: Int = 64 << 10, loadIndexIntoMemory: Bool = false, lookup: CotarIndex.LookupOptions = .init(),
      indexCache: BlockCache? = BlockCache(capacityBytes: 8 << 20), indexBlockSize: Int = 4096,
      mapLocalIndex: Bool = true, keepSpeculativeRead: Bool = true
    ) {
      self.keepSpeculativeRead = keepSpeculativeRead
      self.speculativeBytes = speculativeBytes
      self.loadIndexIntoMemory = loadIndexIntoMemory
      self.lookup = lookup
      self.indexCache = indexCache
      self.indexBlockSize = indexBlockSize
      self.mapLocalIndex = mapLocalIndex
    }

    /// `index`, loaded, mapped or given a window cache as these options ask.
    func prepare(_ index: CotarIndex) async throws -> CotarIndex {
      if loadIndexIntoMemory { return try await index.loadedIntoMemory() }
      if mapLocalIndex, CotarIndex.localFile(of: index.source) != nil { return try index.mapped() }
      guard let indexCache, !(index.source is any SynchronousRangeSource) else { return index }
      return index.cachingWindows(in: indexCache, blockSize: indexBlockSize)
    }
  }

  /// The hash index.
  public let index: CotarIndex
  /// The source holding the tar bytes (the same source as the index for a `.tar.co`).
  public let data: any RangeSource
  /// Where the tar bytes end, when known (the index start in a `.tar.co`); data past it is rejected.
  public let dataLimit: UInt64?
  /// Whether every data read also reads and checks the tar header block before the entry's
  /// data (``EntryHeaderCheck``, SPEC §8.5): set for a sidecar layout (the data comes from
  /// another file than the index, which may have been rewritten since), never for a `.tar.co`.
  public let checksEntryHeaders: Bool

  /// `data`, when it can read without suspending (local files, memory).
  let synchronousData: (any SynchronousRangeSource)?
  /// `data`, when it is a local file, read with a direct call rather than through the protocol
  /// and without reference counting: `data` keeps the source alive for as long as this value
  /// exists, so a read through it need not retain and release it (two atomic operations per
  /// lookup).
  private let fileData: Unmanaged<FileSource>?
  /// Whether `synchronousData` is set, so that checking it copies no existential.
  private let readsWithoutSuspending: Bool

  /// Wraps an already opened index and data source.
  ///
  /// - Parameter checksEntryHeaders: check the tar header before every entry's data (see
  ///   ``checksEntryHeaders``); pass `true` when `data` is a separate file from the index.
  public init(index: CotarIndex, data: any RangeSource, dataLimit: UInt64? = nil, checksEntryHeaders: Bool = false) {
    self.index = index
    self.data = data
    self.dataLimit = dataLimit
    self.checksEntryHeaders = checksEntryHeaders
    self.synchronousData = data as? any SynchronousRangeSource
    // The thin local path has no header check: a checked archive reads through `synchronousData`.
    self.fileData = checksEntryHeaders ? nil : (data as? FileSource).map { Unmanaged.passUnretained($0) }
    self.readsWithoutSuspending = synchronousData != nil
  }

  /// The header check of `entry` (named `path` in errors) when this archive checks headers
  /// (a sidecar layout), else `nil`.
  public func headerCheck(for entry: CotarEntry, path: String? = nil) -> EntryHeaderCheck? {
    checksEntryHeaders ? EntryHeaderCheck(entry: entry, path: path, source: data.identity) : nil
  }

  /// Opens a single-file `.tar.co` (tar bytes followed by the index) with one suffix read.
  ///
  /// For a remote source (and ``OpenOptions/keepSpeculativeRead``) ``data`` is a
  /// ``PrefetchedSource`` holding that suffix, so reads inside it cost no further request.
  /// - Throws: `CotarError` as ``CotarIndex/trailing(in:speculativeBytes:lookupOptions:)``.
  public static func open(_ source: any RangeSource, options: OpenOptions = OpenOptions()) async throws -> Cotar {
    let opened = try await CotarIndex.trailing(
      in: source, speculativeBytes: options.speculativeBytes, lookupOptions: options.lookup,
      keepingRead: options.keepSpeculativeRead)
    let index = try await options.prepare(opened)
    return Cotar(index: index, data: opened.source, dataLimit: index.baseOffset)
  }

  /// Opens a `.tar` with a separate `.tar.index` with one read of the index.
  ///
  /// Every data read of the returned archive also reads the 512-byte tar header before the
  /// entry's data, in the same read, and checks that it describes the entry (SPEC §8.5): a
  /// tar rewritten after indexing fails with `CotarError` `.staleIndex` instead of returning
  /// other bytes.
  /// - Throws: `CotarError` as ``CotarIndex/open(sidecar:speculativeBytes:lookupOptions:)``.
  public static func open(
    tar: any RangeSource, index indexSource: any RangeSource, options: OpenOptions = OpenOptions()
  ) async throws -> Cotar {
    let index = try await options.prepare(
      CotarIndex.open(
        sidecar: indexSource, speculativeBytes: options.speculativeBytes, lookupOptions: options.lookup,
        keepingRead: options.keepSpeculativeRead))
    return Cotar(index: index, data: tar, dataLimit: nil, checksEntryHeaders: true)
  }

  /// Where `path`'s bytes are, or `nil` when it is not indexed.
  ///
  /// - Throws: `CotarError` from the source, or `.corruptIndex` when the record points
  ///   outside the tar.
  public func entry(_ path: String) async throws -> CotarEntry? {
    try await entry(hash: PathHash.fnv1a64(path), path: path)
  }

  /// Where the entry with raw path bytes is, or `nil` when it is not indexed.
  ///
  /// - Throws: as ``entry(_:)``.
  public func entry(pathBytes: [UInt8]) async throws -> CotarEntry? {
    try await entry(hash: PathHash.fnv1a64(bytes: pathBytes), path: String(decoding: pathBytes, as: UTF8.self))
  }

  /// Resolves a path hash; `path` (evaluated only for an error) names the path in errors.
  func entry(hash: UInt64, path: @autoclosure () -> String) async throws -> CotarEntry? {
    guard let entry = try await index.lookup(hash: hash) else { return nil }
    try checkWithinData(entry, path: path())
    return entry
  }

  /// Throws when `entry` points past the end of the tar data.
  func checkWithinData(_ entry: CotarEntry, path: @autoclosure () -> String) throws {
    if let dataLimit, entry.offset + entry.size > dataLimit {
      throw CotarError(
        .corruptIndex,
        "index points at bytes \(entry.offset)..<\(entry.offset + entry.size), past the end of the tar data (\(dataLimit))",
        offset: entry.offset, path: path(), source: data.identity)
    }
  }

  /// The bytes of `path`, or `nil` when it is not indexed. A 0-byte entry does no data read.
  ///
  /// The whole entry is held in memory: use it for small entries. For an entry of any size
  /// (up to 4 GiB in v2) stream it in bounded memory with ``chunks(of:options:)-(CotarEntry,_)``,
  /// ``read(_:to:options:progress:)-(CotarEntry,_,_,_)`` or
  /// ``read(_:toFileDescriptor:options:progress:)-(CotarEntry,_,_,_)``.
  /// - Throws: as ``entry(_:)`` and ``RangeSource/read(_:)``.
  public func read(_ path: String) async throws -> [UInt8]? {
    guard let entry = try await entry(path) else { return nil }
    return try await read(entry, path: path)
  }

  /// The bytes of the entry with raw path bytes, or `nil` when it is not indexed.
  ///
  /// - Throws: as ``read(_:)->[UInt8]?``.
  public func read(pathBytes: [UInt8]) async throws -> [UInt8]? {
    guard let entry = try await entry(pathBytes: pathBytes) else { return nil }
    return try await read(entry, path: String(decoding: pathBytes, as: UTF8.self))
  }

  /// The bytes of a located entry; a 0-byte entry does no read. The whole entry is held in
  /// memory: for large entries use ``chunks(of:options:)-(CotarEntry,_)``.
  ///
  /// - Throws: as ``RangeSource/read(_:)``, the `CotarError` naming the entry's byte offset;
  ///   for a sidecar layout `.staleIndex` when the tar header before the data does not
  ///   describe the entry (``EntryHeaderCheck``).
  public func read(_ entry: CotarEntry) async throws -> [UInt8] {
    try await read(entry, path: nil)
  }

  /// ``read(_:)->[UInt8]`` naming `path` in errors.
  func read(_ entry: CotarEntry, path: String?) async throws -> [UInt8] {
    if entry.size == 0 { return [] }
    return try await readingEntry(path, offset: entry.offset, space: tarOffsetSpace(data)) {
      try await EntryHeaderCheck.read(entry.range, from: data, checking: headerCheck(for: entry, path: path))
    }
  }

  /// Reads `path`'s bytes into the start of `buffer`, reusing the caller's memory (what a
  /// data loader reading many entries wants); `nil` when the path is not indexed.
  ///
  /// - Returns: the number of bytes written, or `nil` for an absent path.
  /// - Throws: `CotarError` `.invalidArgument` when the entry does not fit `buffer`, else as
  ///   ``read(_:)->[UInt8]?``.
  public func read(_ path: String, into buffer: UnsafeMutableRawBufferPointer) async throws -> Int? {
    let hash = PathHash.fnv1a64(path)
    if case .resolved(let count) = try readWithoutSuspending(hash: hash, path: path, into: buffer) { return count }
    guard let entry = try await entry(hash: hash, path: path) else { return nil }
    try await read(entry, path: path, into: buffer)
    return Int(entry.size)
  }

  /// Reads `path` into `buffer` synchronously when that needs no I/O that could suspend: the
  /// index is wholly in memory and the data source is a ``SynchronousRangeSource`` (a local
  /// file or memory). The hottest local path: no async call at all.
  ///
  /// - Returns: `.resolved(count)` (`nil` count: absent), or `.needsAsync` when the index is
  ///   not in memory or the source is remote; then call ``read(_:into:)->_``.
  /// - Throws: as ``read(_:into:)->_``.
  public func readWithoutSuspending(_ path: String, into buffer: UnsafeMutableRawBufferPointer) throws -> SynchronousRead {
    guard readsWithoutSuspending else { return .needsAsync }
    return try readWithoutSuspending(hash: PathHash.fnv1a64(path), path: path, into: buffer)
  }

  /// ``readWithoutSuspending(_:into:)`` for an already hashed path.
  @inline(__always)
  private func readWithoutSuspending(
    hash: UInt64, path: String, into buffer: UnsafeMutableRawBufferPointer
  ) throws -> SynchronousRead {
    if let fileData {
      // The hottest local path, kept thin: no reference counting, no existential copy, no
      // closure for the path.
      guard case .resolved(let found) = index.lookupInMemory(hash: hash) else { return .needsAsync }
      guard let entry = found else { return .resolved(nil) }
      if let dataLimit, entry.offset + entry.size > dataLimit { try checkWithinData(entry, path: path) }
      if entry.size > 0 {
        try readingEntrySync(path, offset: entry.offset) {
          try fileData._withUnsafeGuaranteedRef { try $0.readSync(entry.range, into: buffer) }
        }
      }
      return .resolved(Int(entry.size))
    }
    guard let synchronousData, case .resolved(let found) = index.lookupInMemory(hash: hash) else {
      return .needsAsync
    }
    guard let entry = found else { return .resolved(nil) }
    try checkWithinData(entry, path: path)
    if entry.size > 0 {
      try readingEntrySync(path, offset: entry.offset) {
        if let check = headerCheck(for: entry, path: path) {
          try data.checkCapacity(of: buffer, for: entry.range)
          try check.readSync(entry.range, from: synchronousData, into: buffer)
        } else {
          try synchronousData.readSync(entry.range, into: buffer)
        }
      }
    }
    return .resolved(Int(entry.size))
  }

  /// The outcome of ``readWithoutSuspending(_:into:)``.
  public enum SynchronousRead: Sendable, Hashable {
    /// The read finished: the byte count, or `nil` when the path is absent.
    case resolved(Int?)
    /// The index or the data needs I/O that may suspend; use ``read(_:into:)->_``.
    case needsAsync
  }

  /// Reads a located entry into the start of `buffer`; a 0-byte entry does no read.
  ///
  /// - Throws: as ``read(_:into:)->_``.
  public func read(_ entry: CotarEntry, into buffer: UnsafeMutableRawBufferPointer) async throws {
    try await read(entry, path: nil, into: buffer)
  }

  /// ``read(_:into:)-(CotarEntry,_)`` naming `path` in errors.
  func read(_ entry: CotarEntry, path: String?, into buffer: UnsafeMutableRawBufferPointer) async throws {
    if entry.size == 0 { return }
    try await readingEntry(path, offset: entry.offset, space: tarOffsetSpace(data)) {
      guard let check = headerCheck(for: entry, path: path) else { return try await data.read(entry.range, into: buffer) }
      try data.checkCapacity(of: buffer, for: entry.range)
      if let synchronousData { return try check.readSync(entry.range, from: synchronousData, into: buffer) }
      let bytes = try await check.read(entry.range, from: data)
      bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
  }

}
