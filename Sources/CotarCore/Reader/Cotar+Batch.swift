/// Tuning of ``Cotar/read(paths:options:)``.
public struct BatchReadOptions: Sendable, Hashable {
  /// Lookups (index windows) in flight at once.
  public var lookupConcurrency: Int
  /// Data reads in flight at once.
  public var readConcurrency: Int
  /// Two entries are read with one request when the bytes between them are at most this many.
  public var coalesceGap: UInt64
  /// A coalesced read is not grown past this many bytes (a single larger entry is still read whole).
  public var maximumCoalescedBytes: UInt64
  /// How the index is read: decided per batch (default), or one window per path.
  public var indexReads: BatchIndexReads

  /// Creates options (defaults: 16 lookups, 8 reads, 64 KiB gap, 16 MiB per read, index
  /// reads decided per batch).
  public init(
    lookupConcurrency: Int = 16, readConcurrency: Int = 8, coalesceGap: UInt64 = 64 << 10,
    maximumCoalescedBytes: UInt64 = 16 << 20, indexReads: BatchIndexReads = .automatic
  ) {
    self.lookupConcurrency = max(1, lookupConcurrency)
    self.readConcurrency = max(1, readConcurrency)
    self.coalesceGap = coalesceGap
    self.maximumCoalescedBytes = max(1, maximumCoalescedBytes)
    self.indexReads = indexReads
  }
}

/// One read that serves one or more entries: see ``Cotar/coalesce(_:gap:maximumBytes:)``.
public struct CoalescedRead: Hashable, Sendable {
  /// The bytes to fetch.
  public var range: Range<UInt64>
  /// Positions (in the input array) of the entries inside ``range``.
  public var members: [Int]

  /// Creates a read of `range` serving the entries at `members`.
  public init(range: Range<UInt64>, members: [Int]) {
    self.range = range
    self.members = members
  }
}

extension Cotar {
  /// The bytes of many entries, in the order of `paths`; `nil` for paths that are not indexed.
  ///
  /// The index is read as ``CotarIndex/prefetchSlots(for:concurrency:gapBytes:)`` decides
  /// (for a remote index, the home windows of all paths merged into a few parallel reads),
  /// remaining lookups run concurrently (bounded), then the data reads are sorted by offset
  /// and neighbours closer than `options.coalesceGap` are fetched with one read; 0-byte
  /// entries need no read. Results are held in memory: split very large batches.
  /// - Throws: the first `CotarError` any lookup or read throws.
  public func read(paths: [String], options: BatchReadOptions = BatchReadOptions()) async throws -> [[UInt8]?] {
    if index.isResident {
      // Every slot in memory (loaded or mapped): hash the strings as they are, no byte copies.
      let located = try paths.map { path in
        try entryInMemory(hash: PathHash.fnv1a64(path), path: path)
      }
      do {
        return try await read(entries: located, paths: checksEntryHeaders ? paths.map { Array($0.utf8) } : nil, options: options)
      } catch {
        // The path is named here, only on failure: no byte copies of the paths otherwise.
        throw Self.naming(error, in: located) { paths[$0] }
      }
    }
    return try await read(pathBytes: paths.map { Array($0.utf8) }, options: options)
  }

  /// The entry for `hash` from an index wholly in memory, checked against the data limit.
  private func entryInMemory(hash: UInt64, path: @autoclosure () -> String) throws -> CotarEntry? {
    guard case .resolved(let found) = index.lookupInMemory(hash: hash), let found else { return nil }
    try checkWithinData(found, path: path())
    return found
  }

  /// As ``read(paths:options:)`` with raw path bytes.
  ///
  /// - Throws: as ``read(paths:options:)``.
  public func read(pathBytes: [[UInt8]], options: BatchReadOptions = BatchReadOptions()) async throws -> [[UInt8]?] {
    let located = try await entries(
      pathBytes: pathBytes, concurrency: options.lookupConcurrency, indexReads: options.indexReads,
      indexGap: options.coalesceGap)
    return try await read(entries: located, paths: pathBytes, options: options)
  }

  /// The bytes of many located entries (as ``entries(pathBytes:concurrency:indexReads:indexGap:)``
  /// returns them), in order; `nil` stays `nil`. Data reads are sorted by offset, neighbours
  /// closer than `options.coalesceGap` are fetched with one read, `options.readConcurrency`
  /// at once. Results are held in memory: stream large entries with ``chunks(of:options:)-(CotarEntry,_)``.
  /// For a sidecar layout (``checksEntryHeaders``) every read also covers the 512-byte tar
  /// header before each entry's data, checked before the entry's bytes are returned. For a
  /// `.tar.gz` (``GzipTarSource``) each read covers whole seek-point spans
  /// (``GzipTarSource/seekSpan(of:)``), so entries in one span share one read of it.
  ///
  /// - Parameter paths: the entries' paths, in the same order, to name in errors (optional).
  /// - Throws: the first `CotarError` any read throws, naming the byte offset of the entry
  ///   (of a coalesced read, the member holding the failure) and its path when `paths` has
  ///   it; `.staleIndex` when an entry's header does not describe it (``EntryHeaderCheck``).
  public func read(
    entries located: [CotarEntry?], paths: [[UInt8]]? = nil, options: BatchReadOptions = BatchReadOptions()
  ) async throws -> [[UInt8]?] {
    let present = located.enumerated().compactMap { item in item.element.map { (item.offset, $0) } }
    // The header block (SPEC §8.5) is read with the data: each read starts `lead` bytes early.
    let lead: UInt64 = checksEntryHeaders ? EntryHeaderCheck.blockSize : 0
    @Sendable func name(_ position: Int) -> String? {
      paths.flatMap { position < $0.count ? String(decoding: $0[position], as: UTF8.self) : nil }
    }
    func check(_ position: Int, _ entry: CotarEntry) -> EntryHeaderCheck? {
      headerCheck(for: entry, path: name(position))
    }
    for (position, entry) in present where entry.size > 0 { _ = try check(position, entry)?.headerOffset() }
    if let synchronousData {
      return try readLocally(
        present, count: located.count, from: synchronousData, lead: lead, options: options, name: name
      ) {
        check($0, $1)
      }
    }
    let spans = present.map { CotarEntry(offset: $0.1.offset - ($0.1.size > 0 ? lead : 0), size: $0.1.size > 0 ? $0.1.size + lead : 0) }
    // A .tar.gz read inflates from a seek point to the next: entries are grouped by those
    // spans, so each span (and a run of adjacent ones) is fetched once, not once per entry.
    let reads = (data as? GzipTarSource).map { gzip in
      spans.map { span in
        guard span.size > 0 else { return span }
        let widened = gzip.seekSpan(of: span.range)
        return CotarEntry(offset: widened.lowerBound, size: widened.upperBound - widened.lowerBound)
      }
    } ?? spans
    let plan = Cotar.coalesce(reads, gap: options.coalesceGap, maximumBytes: options.maximumCoalescedBytes)
    var results: [[UInt8]?] = located.map { $0 == nil ? nil : [] }
    let fetched = try await boundedMap(plan, concurrency: options.readConcurrency) { read in
      do {
        return try await self.data.read(read.range)
      } catch {
        // The member holding the error's offset, when that offset is one in the tar (not one
        // in a .tar.gz's compressed bytes).
        let failure = (error as? CotarError).flatMap { $0.offsetSpace == .source ? nil : $0.offset }
        let member = failedMember(read.members, at: failure) { spans[$0].range }
        // A sidecar's tar that ends before an entry's bytes was cut after it was indexed.
        let mapped = member.flatMap { self.headerCheck(for: present[$0].1, path: name(present[$0].0))?.explainingCut(error) } ?? error
        throw entryReadError(
          mapped, path: member.flatMap { name(present[$0].0) }, offset: member.map { present[$0].1.offset } ?? read.range.lowerBound,
          space: tarOffsetSpace(self.data))
      }
    }
    for (read, bytes) in zip(plan, fetched) {
      for member in read.members {
        let (position, entry) = present[member]
        let start = Int(entry.offset - read.range.lowerBound)
        if let check = check(position, entry) { try await check.verify(bytes[(start - Int(lead))..<start], from: data) }
        results[position] = Array(bytes[start..<(start + Int(entry.size))])
      }
    }
    return results
  }

  /// The largest gap a local batch read bridges: copying more unwanted bytes out of the page
  /// cache costs more than the `pread` it saves.
  static let localCoalesceGap: UInt64 = 4096

  /// ``read(entries:options:)`` on a local source (a file or memory): in offset order,
  /// without tasks, neighbours at most `min(options.coalesceGap, 4 KiB)` apart read with one
  /// `pread` into a scratch buffer, a lone entry read straight into its result array. With a
  /// `lead` (the header check of a sidecar layout) each entry's read starts that many bytes
  /// early and `check` verifies them before the entry's bytes are kept.
  private func readLocally(
    _ present: [(Int, CotarEntry)], count: Int, from source: any SynchronousRangeSource, lead: UInt64,
    options: BatchReadOptions, name: (Int) -> String?, check: (Int, CotarEntry) -> EntryHeaderCheck?
  ) throws -> [[UInt8]?] {
    var results = [[UInt8]?](repeating: nil, count: count)
    // (offset, end, position) of every entry with data, in offset order.
    var order: [(offset: UInt64, end: UInt64, position: Int)] = []
    order.reserveCapacity(present.count)
    var entries: [CotarEntry] = lead == 0 ? [] : Array(repeating: CotarEntry(offset: 0, size: 0), count: count)
    for (position, entry) in present {
      if entry.size == 0 {
        results[position] = []
      } else {
        order.append((entry.offset - lead, entry.offset + entry.size, position))
        if lead > 0 { entries[position] = entry }
      }
    }
    order.sort { $0.offset < $1.offset }
    let gap = min(options.coalesceGap, Self.localCoalesceGap)
    var scratch: UnsafeMutableRawBufferPointer?
    defer { scratch?.deallocate() }
    var first = 0
    while first < order.count {
      // The run [first, last) read with one pread.
      var last = first + 1
      var end = order[first].end
      while last < order.count, order[last].offset <= end + gap,
        max(end, order[last].end) - order[first].offset <= options.maximumCoalescedBytes
      {
        end = max(end, order[last].end)
        last += 1
      }
      let range = order[first].offset..<end
      let size = Int(end - range.lowerBound)
      do {
        if last == first + 1 && lead == 0 {
          results[order[first].position] = try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            try source.readSync(range, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = size
          }
        } else {
          if (scratch?.count ?? 0) < size {
            scratch?.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1 << 16), alignment: 64)
          }
          if let buffer = scratch {
            try source.readSync(range, into: buffer)
            for member in order[first..<last] {
              // The member's read starts at `from` (its header block when `lead` is 512).
              let from = Int(member.offset - range.lowerBound)
              let start = from + Int(lead)
              if lead > 0, let check = check(member.position, entries[member.position]) {
                try check.verify(UnsafeRawBufferPointer(rebasing: buffer[from..<start]), from: source)
              }
              results[member.position] = Array(buffer[start..<(from + Int(member.end - member.offset))])
            }
          }
        }
      } catch {
        let member = failedMember(order[first..<last], at: (error as? CotarError)?.offset) { $0.offset..<$0.end }
        // A sidecar's tar that ends before an entry's bytes was cut after it was indexed.
        let mapped = member.flatMap { lead > 0 ? check($0.position, entries[$0.position])?.explainingCut(error) : nil } ?? error
        throw entryReadError(
          mapped, path: member.flatMap { name($0.position) }, offset: member.map { $0.offset + lead } ?? range.lowerBound)
      }
      first = last
    }
    return results
  }

  /// `error` naming the entry of `located` that holds its byte offset, when it names none.
  static func naming(_ error: any Error, in located: [CotarEntry?], path: (Int) -> String) -> any Error {
    guard var failure = error as? CotarError, failure.path == nil, let offset = failure.offset,
      let position = located.firstIndex(where: { $0?.range.contains(offset) == true })
    else { return error }
    failure.path = path(position)
    return failure
  }

  /// Locates many entries, in the order of `pathBytes`: the index slots are prefetched as
  /// ``CotarIndex/prefetchSlots(for:concurrency:gapBytes:)`` decides (unless `indexReads` is
  /// `.perPath`), then lookups not resolved from them run concurrently, `concurrency` at once.
  ///
  /// - Throws: as ``entry(pathBytes:)``.
  public func entries(
    pathBytes: [[UInt8]], concurrency: Int = 16, indexReads: BatchIndexReads = .automatic, indexGap: UInt64 = 64 << 10
  ) async throws -> [CotarEntry?] {
    let hashes = pathBytes.map { PathHash.fnv1a64(bytes: $0) }
    var results = [CotarEntry?](repeating: nil, count: pathBytes.count)
    if index.isResident {
      // Every slot in memory (loaded or mapped): no I/O, no tasks.
      for position in pathBytes.indices {
        results[position] = try entryInMemory(
          hash: hashes[position], path: String(decoding: pathBytes[position], as: UTF8.self))
      }
      return results
    }
    var pending = Array(pathBytes.indices)
    if indexReads == .automatic,
      let slots = try await index.prefetchSlots(for: hashes, concurrency: concurrency, gapBytes: indexGap)
    {
      pending = []
      for position in pathBytes.indices {
        guard case .resolved(let found) = slots.lookup(hash: hashes[position]) else {
          pending.append(position)
          continue
        }
        if let found { try checkWithinData(found, path: String(decoding: pathBytes[position], as: UTF8.self)) }
        results[position] = found
      }
    }
    let looked = try await boundedMap(pending, concurrency: concurrency) { position in
      try await self.entry(hash: hashes[position], path: String(decoding: pathBytes[position], as: UTF8.self))
    }
    for (position, entry) in zip(pending, looked) { results[position] = entry }
    return results
  }

  /// Groups entries into reads: sorted by offset, an entry joins the previous read when it
  /// starts at most `gap` bytes after that read ends and the read stays within `maximumBytes`.
  /// Entries of 0 bytes are left out; duplicates share a read.
  public static func coalesce(_ entries: [CotarEntry], gap: UInt64, maximumBytes: UInt64) -> [CoalescedRead] {
    let order = entries.indices.filter { entries[$0].size > 0 }.sorted { entries[$0].offset < entries[$1].offset }
    var reads: [CoalescedRead] = []
    for index in order {
      let range = entries[index].range
      if var last = reads.last, range.lowerBound <= last.range.upperBound + gap,
        max(last.range.upperBound, range.upperBound) - last.range.lowerBound <= maximumBytes
      {
        last.range = last.range.lowerBound..<max(last.range.upperBound, range.upperBound)
        last.members.append(index)
        reads[reads.count - 1] = last
      } else {
        reads.append(CoalescedRead(range: range, members: [index]))
      }
    }
    return reads
  }
}

/// `transform` applied to every element with at most `concurrency` calls running, results in input order.
func boundedMap<Element: Sendable, Result: Sendable>(
  _ items: [Element], concurrency: Int, _ transform: @escaping @Sendable (Element) async throws -> Result
) async throws -> [Result] {
  try await withThrowingTaskGroup(of: (Int, Result).self) { group in
    var results = [Result?](repeating: nil, count: items.count)
    var next = 0
    func start() {
      let position = next
      let item = items[position]
      group.addTask { (position, try await transform(item)) }
      next += 1
    }
    while next < min(items.count, max(1, concurrency)) { start() }
    while let (position, value) = try await group.next() {
      results[position] = value
      if next < items.count {
        try Task.checkCancellation()
        start()
      }
    }
    return results.compactMap { $0 }
  }
}
