/// Builds a Cotar v2 index byte-identical to linz/cotar's `@cotar/builder` (SPEC.md §6).
///
/// Feed it the members of a tar in archive order with ``add(_:)``, then call
/// ``build(pathAt:)``. It keeps a 24-byte record per indexed entry and no path strings;
/// paths are re-read from the archive only to tell a duplicate from a hash collision.
public struct CotarIndexBuilder: Sendable {
  /// Build options, with the defaults of the `cotar` CLI of linz/cotar.
  public struct Options: Sendable, Hashable {
    /// Extra slots in percent: `slots = ceil(files × (1 + packing / 100))`. Default 25.
    public var packing: Double = 25
    /// Longest probe run allowed before the build fails. Default 50.
    public var maxSearch: Int = 50

    /// Creates options.
    public init(packing: Double = 25, maxSearch: Int = 50) {
      self.packing = packing
      self.maxSearch = maxSearch
    }

    /// The multiplier applied to the file count, computed as linz/cotar does: `1 + packing / 100`.
    public var packingFactor: Double { 1 + packing / 100 }
  }

  /// An indexed entry as the builder keeps it (24 bytes).
  struct PendingRecord {
    var hash: UInt64
    var blockOffset: UInt32
    var size: UInt32
    /// Offset of the member's first header, to re-read its path if needed.
    var headerOffset: UInt64
  }

  /// The options in use.
  public let options: Options
  private var records: [PendingRecord] = []
  /// Latest record index per path hash; created at the first hard link only.
  private var latestByHash: [UInt64: Int]?

  /// Creates an empty builder.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when `packing` is negative or not finite, or
  ///   `maxSearch` is negative.
  public init(options: Options = Options()) throws(CotarError) {
    guard options.packing.isFinite, options.packing >= 0 else {
      throw CotarError(.invalidArgument, "packing must be a finite number ≥ 0 (got \(options.packing))")
    }
    guard options.maxSearch >= 0 else {
      throw CotarError(.invalidArgument, "max search must be ≥ 0 (got \(options.maxSearch))")
    }
    self.options = options
  }

  /// Number of indexed members added so far (before duplicates are removed).
  public var addedCount: Int { records.count }

  /// Adds a tar member; members that are not files or hard links are ignored.
  ///
  /// A hard link takes the data offset and size of the latest earlier member with its target path.
  /// - Throws: `CotarError` `.invalidTar` for a hard link whose target was not seen earlier,
  ///   `.limitExceeded` for a data offset ≥ 2 TiB or a size ≥ 4 GiB, `.hashCollision` for a
  ///   path whose hash is 0 (reserved for empty slots).
  public mutating func add(_ entry: TarEntry) throws(CotarError) {
    guard entry.kind.isIndexed else { return }
    let hash = PathHash.fnv1a64(bytes: entry.pathBytes)
    guard hash != 0 else {
      throw CotarError(
        .hashCollision, "path hashes to 0, which the format reserves for empty slots; rename it",
        offset: entry.headerOffset, path: entry.path)
    }
    let record: PendingRecord
    if entry.kind == .hardLink {
      let target = entry.linkTargetBytes ?? []
      if latestByHash == nil { latestByHash = Self.latestIndex(of: records) }
      guard let targetIndex = latestByHash?[PathHash.fnv1a64(bytes: target)] else {
        throw CotarError(
          .invalidTar,
          "hard link to '\(String(decoding: target, as: UTF8.self))', which does not appear earlier in the archive",
          offset: entry.headerOffset, path: entry.path)
      }
      let targetRecord = records[targetIndex]
      record = PendingRecord(
        hash: hash, blockOffset: targetRecord.blockOffset, size: targetRecord.size,
        headerOffset: entry.headerOffset)
    } else {
      guard entry.dataOffset.isMultiple(of: CotarFormat.blockSize),
        let block = UInt32(exactly: entry.dataOffset / CotarFormat.blockSize)
      else {
        throw CotarError(
          .limitExceeded,
          "data offset \(entry.dataOffset) is beyond what a v2 index can address (2 TiB); split the archive (cotar pack)",
          offset: entry.headerOffset, path: entry.path)
      }
      guard let size = UInt32(exactly: entry.size) else {
        throw CotarError(
          .limitExceeded, "entry of \(entry.size) bytes is larger than a v2 index can describe (4 GiB − 1)",
          offset: entry.headerOffset, path: entry.path)
      }
      record = PendingRecord(hash: hash, blockOffset: block, size: size, headerOffset: entry.headerOffset)
    }
    records.append(record)
    latestByHash?[hash] = records.count - 1
  }

  /// Adds a record taken from an existing index (used to extend an index without re-scanning).
  ///
  /// - Parameters:
  ///   - record: a filled slot of the existing index.
  ///   - headerOffset: where the member's header is, to re-read its path if it collides.
  public mutating func add(existing record: CotarIndexRecord, headerOffset: UInt64) {
    records.append(
      PendingRecord(hash: record.hash, blockOffset: record.blockOffset, size: record.size, headerOffset: headerOffset))
    latestByHash?[record.hash] = records.count - 1
  }

  /// The header offset recorded for a record whose path is unknown (see ``add(existing:)``).
  static let unknownHeaderOffset = UInt64.max

  /// Adds a record taken from an existing index whose member position is not known (used
  /// by `cotar append`, which reuses the old index without re-scanning the old members).
  ///
  /// Such a record sorts before every record added with a known header offset. When a later
  /// member has the same hash, the record is taken to be the same path and is superseded
  /// (last wins) without reading its path: two different paths would need equal 64-bit
  /// FNV-1a hashes, which the old index could not have told apart either (probability about
  /// 2^-64 per pair).
  /// - Parameter record: a filled slot of the existing index.
  public mutating func add(existing record: CotarIndexRecord) {
    add(existing: record, headerOffset: Self.unknownHeaderOffset)
  }

  /// Sort key within a run of equal hashes: unknown positions first, then by header offset.
  private static func order(_ record: PendingRecord) -> UInt64 { record.headerOffset &+ 1 }

  private static func latestIndex(of records: [PendingRecord]) -> [UInt64: Int] {
    var table: [UInt64: Int] = [:]
    table.reserveCapacity(records.count)
    for (index, record) in records.enumerated() { table[record.hash] = index }
    return table
  }

  /// Builds the index bytes.
  ///
  /// - Parameter pathAt: returns the path bytes of the member whose header starts at an
  ///   offset; called only for members that share a hash (duplicates or collisions).
  /// - Returns: the serialized index and statistics.
  /// - Throws: `CotarError` `.hashCollision` naming both paths, `.indexTooDense` when a probe
  ///   run exceeds `maxSearch` (suggesting a larger packing), `.limitExceeded` for more than
  ///   2^32 − 1 slots, or what `pathAt` throws.
  public consuming func build(
    pathAt: (UInt64) async throws -> [UInt8]
  ) async throws -> BuiltIndex {
    var unique = records
    records = []
    latestByHash = nil
    let duplicates = try await Self.removeDuplicates(&unique, pathAt: pathAt)
    switch Self.layOut(unique, duplicates: duplicates, options: options) {
    case .success(let built):
      return built
    case .failure(var error):
      if let headerOffset = error.offset {
        error.path = String(decoding: try await pathAt(headerOffset), as: UTF8.self)
      }
      throw error
    }
  }

  /// Sorts by (hash, header offset) and keeps the last member of each path; returns how many were dropped.
  private static func removeDuplicates(
    _ records: inout [PendingRecord], pathAt: (UInt64) async throws -> [UInt8]
  ) async throws -> Int {
    records.sort { ($0.hash, order($0)) < ($1.hash, order($1)) }
    var kept = 0
    var index = 0
    var dropped = 0
    while index < records.count {
      var runEnd = index + 1
      while runEnd < records.count && records[runEnd].hash == records[index].hash { runEnd += 1 }
      if runEnd - index > 1 && records[runEnd - 1].headerOffset != unknownHeaderOffset {
        let lastPath = try await pathAt(records[runEnd - 1].headerOffset)
        for other in index..<(runEnd - 1) where records[other].headerOffset != unknownHeaderOffset {
          let otherPath = try await pathAt(records[other].headerOffset)
          guard otherPath == lastPath else {
            throw CotarError(
              .hashCollision,
              "paths '\(String(decoding: otherPath, as: UTF8.self))' (header at \(records[other].headerOffset)) and '\(String(decoding: lastPath, as: UTF8.self))' (header at \(records[runEnd - 1].headerOffset)) have the same FNV-1a 64 hash 0x\(String(records[index].hash, radix: 16)); rename one of them",
              offset: records[runEnd - 1].headerOffset, path: String(decoding: lastPath, as: UTF8.self))
          }
        }
      }
      dropped += runEnd - index - 1
      records[kept] = records[runEnd - 1]
      kept += 1
      index = runEnd
    }
    records.removeLast(records.count - kept)
    return dropped
  }

  /// Places records into slots in linz order: by (home slot, data offset, hash), linear probing.
  /// A failure carries the offending member's header offset in `offset`.
  private static func layOut(
    _ records: [PendingRecord], duplicates: Int, options: Options
  ) -> Result<BuiltIndex, CotarError> {
    let fileCount = records.count
    let slotsDouble = (Double(fileCount) * options.packingFactor).rounded(.up)
    guard slotsDouble <= Double(UInt32.max), let slotCount32 = UInt32(exactly: slotsDouble) else {
      return .failure(CotarError(
        .limitExceeded, "\(fileCount) files need \(slotsDouble) slots, more than a v2 index can hold (2^32 − 1)"))
    }
    guard Int(slotCount32) >= fileCount else {
      return .failure(CotarError(.indexTooDense, "\(fileCount) files do not fit in \(slotCount32) slots; use a larger packing"))
    }
    let slotCount = Int(slotCount32)
    let ordered = orderForPlacement(records, slotCount: slotCount)

    var bytes = [UInt8](repeating: 0, count: Int(CotarFormat.indexSize(slotCount: slotCount32)))
    let header = CotarIndexHeader(slotCount: slotCount32).serialized()
    bytes.replaceSubrange(0..<8, with: header)
    bytes.replaceSubrange((bytes.count - 8)..<bytes.count, with: header)

    var longestProbe = 0
    var totalProbe = 0
    var failure: CotarError?
    bytes.withUnsafeMutableBytes { table in
      let slots = table.baseAddress.map { $0 + CotarFormat.headerSize }
      guard let slots else { return }
      for record in ordered {
        let home = Int(record.hash % UInt64(slotCount))
        var slot = home
        var search = 0
        while slots.loadUnaligned(fromByteOffset: slot * 16, as: UInt64.self) != 0 {
          search += 1
          slot += 1
          if slot == slotCount { slot = 0 }
          if search > options.maxSearch || slot == home {
            failure = CotarError(
              .indexTooDense,
              "no free slot within \(options.maxSearch) probes of its home slot \(home) (\(fileCount) files in \(slotCount) slots); rebuild with a larger --packing (e.g. \(Int(options.packing * 2 + 25))) or --max-search",
              offset: record.headerOffset == unknownHeaderOffset ? nil : record.headerOffset)
            return
          }
        }
        longestProbe = max(longestProbe, search)
        totalProbe += search
        let at = slot * 16
        slots.storeBytes(of: record.hash.littleEndian, toByteOffset: at, as: UInt64.self)
        slots.storeBytes(of: record.blockOffset.littleEndian, toByteOffset: at + 8, as: UInt32.self)
        slots.storeBytes(of: record.size.littleEndian, toByteOffset: at + 12, as: UInt32.self)
      }
    }
    if let failure { return .failure(failure) }
    let stats = IndexBuildStats(
      files: fileCount, slots: slotCount, longestProbe: longestProbe,
      meanProbe: fileCount == 0 ? 0 : Double(totalProbe) / Double(fileCount), duplicatesDropped: duplicates)
    return .success(BuiltIndex(bytes: bytes, stats: stats))
  }

  /// Records sorted by (home slot, block offset, hash), using a counting sort on the home slot.
  private static func orderForPlacement(_ records: [PendingRecord], slotCount: Int) -> [PendingRecord] {
    guard slotCount > 0 else { return [] }
    var starts = [Int32](repeating: 0, count: slotCount + 1)
    var homes = [UInt32](repeating: 0, count: records.count)
    for (index, record) in records.enumerated() {
      let home = Int(record.hash % UInt64(slotCount))
      homes[index] = UInt32(home)
      starts[home + 1] += 1
    }
    for slot in 0..<slotCount { starts[slot + 1] += starts[slot] }
    var next = starts
    var ordered = [PendingRecord](
      repeating: PendingRecord(hash: 0, blockOffset: 0, size: 0, headerOffset: 0), count: records.count)
    for (index, record) in records.enumerated() {
      let home = Int(homes[index])
      ordered[Int(next[home])] = record
      next[home] += 1
    }
    for slot in 0..<slotCount where starts[slot + 1] - starts[slot] > 1 {
      ordered[Int(starts[slot])..<Int(starts[slot + 1])].sort { ($0.blockOffset, $0.hash) < ($1.blockOffset, $1.hash) }
    }
    return ordered
  }
}

/// A serialized index and what building it found.
public struct BuiltIndex: Sendable {
  /// The index bytes: header, slots, footer.
  public var bytes: [UInt8]
  /// Build statistics.
  public var stats: IndexBuildStats
}

/// Statistics of an index build.
public struct IndexBuildStats: Hashable, Sendable {
  /// Indexed paths (after duplicates were dropped).
  public var files: Int
  /// Slots in the table.
  public var slots: Int
  /// Longest distance from a path's home slot to where it was placed.
  public var longestProbe: Int
  /// Mean distance from home slot.
  public var meanProbe: Double
  /// Earlier occurrences of repeated paths that were superseded (last wins).
  public var duplicatesDropped: Int
}
