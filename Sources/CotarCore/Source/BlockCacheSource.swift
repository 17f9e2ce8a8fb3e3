/// A decorator that serves reads from aligned blocks kept in a ``BlockCache``.
///
/// A read is widened to the blocks it touches; the blocks not in memory are fetched from the
/// base source with **one** read spanning them (so a window that straddles a block boundary
/// still costs one request), and concurrent misses on the same block share that read.
/// ``Cotar`` puts one in front of the index so that index windows are cached across lookups
/// while entry data goes straight to the base source.
public struct BlockCacheSource: RangeSource {
  /// The source being cached.
  public let base: any RangeSource
  /// Bytes per block (the unit of caching and of widening reads).
  public let blockSize: Int
  /// The shared block store.
  public let cache: BlockCache
  /// Where the cached region ends: blocks are clipped here, and reads past it pass through.
  public let limit: UInt64
  /// This decorator's key space in ``cache``.
  public let owner: UInt64

  /// Wraps `base`.
  ///
  /// - Parameters:
  ///   - base: the source to cache.
  ///   - limit: the end of the cacheable region, usually the source size (no block extends
  ///     past it, so no read asks for bytes the source does not have).
  ///   - blockSize: bytes per block, at least 16 (default 4 KiB).
  ///   - cache: the store, possibly shared with other decorators.
  public init(_ base: any RangeSource, limit: UInt64, blockSize: Int = 4096, cache: BlockCache = BlockCache()) {
    self.base = base
    self.limit = limit
    self.blockSize = max(16, blockSize)
    self.cache = cache
    self.owner = BlockCache.makeOwner()
  }

  /// The identity of the base source.
  public var identity: String { base.identity }

  /// Forwards to the base source.
  public func size() async throws -> UInt64 { try await base.size() }

  /// Forwards to the base source (suffix reads are not cached).
  public func readSuffix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    try await base.readSuffix(count: count)
  }

  /// Forwards to the base source (prefix reads are not cached).
  public func readPrefix(count: Int) async throws -> (bytes: [UInt8], totalSize: UInt64) {
    try await base.readPrefix(count: count)
  }

  /// The bytes of `range`, from cached blocks where possible.
  ///
  /// - Throws: as the base source's ``RangeSource/read(_:)``; `.truncated` when the base
  ///   returned fewer bytes than a block needs.
  public func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    if range.isEmpty { return [] }
    guard range.upperBound <= limit else { return try await base.read(range) }
    let size = UInt64(blockSize)
    let first = range.lowerBound / size
    let last = (range.upperBound - 1) / size
    let base = self.base
    let limit = self.limit
    let blocks = try await cache.blocks(owner: owner, first...last, blockSize: blockSize) { span in
      let start = span.lowerBound * size
      let end = min(limit, (span.upperBound + 1) * size)
      return try await base.read(start..<end)
    }
    var out: [UInt8] = []
    out.reserveCapacity(range.count)
    for (position, bytes) in blocks.enumerated() {
      let blockStart = (first + UInt64(position)) * size
      let from = Int(max(range.lowerBound, blockStart) - blockStart)
      let to = Int(min(range.upperBound, blockStart + UInt64(bytes.count)) - blockStart)
      guard from <= to else { break }
      out += bytes[from..<to]
    }
    guard out.count == range.count else {
      throw CotarError(
        .truncated, "cached read returned \(out.count) of \(range.count) bytes", offset: range.lowerBound,
        source: identity)
    }
    return out
  }
}
