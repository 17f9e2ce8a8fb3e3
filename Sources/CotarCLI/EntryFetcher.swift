import CotarCore

/// The one read path of `get` and `extract`: located entries handed over in order, small ones
/// read in coalesced batches (at most 1024 entries and ``batchBytes`` bytes at once), large ones
/// (over ``streamThreshold``) handed over to be streamed, so memory stays bounded whatever the
/// entry sizes. (`serve` streams through the same ``RangeChunks``.)
struct EntryFetcher {
  /// What ``forEach(_:_:)`` hands over for one entry.
  enum Payload {
    /// The path is not indexed.
    case missing
    /// A small entry, read (in a coalesced batch).
    case bytes([UInt8])
    /// A large entry, to be streamed.
    case stream(CotarEntry)
    /// The entry's bytes are damaged (``CotarError/isDamagedData``, naming the entry): it is
    /// reported and skipped, and the other entries go on.
    case failed(CotarError)
  }

  /// Entries larger than this are streamed on their own (bounded memory, kernel copy from a
  /// local archive); smaller ones are read in coalesced batches.
  static let streamThreshold: UInt64 = TransferProgress.threshold
  /// Bytes of small entries held at once.
  static let batchBytes: UInt64 = 64 << 20
  /// Entries read in one batch at most.
  static let batchCount = 1024

  /// The archive read from.
  var cotar: Cotar
  /// Concurrency and coalescing of the batch reads.
  var options: BatchReadOptions

  /// Calls `body` with the position in `located` and the payload of every entry, in order.
  ///
  /// A batch read that fails on damaged data (``CotarError/isDamagedData``: a `.tar.gz`
  /// segment that does not match its index) is read again entry by entry, so that only the
  /// entries whose bytes lie in the damage are handed over as ``Payload/failed(_:)``; every
  /// other error of a read stops the whole walk (a changed archive or a stale index makes
  /// every offset untrustworthy).
  ///
  /// - Parameter paths: the entries' paths (same order), named in read errors.
  /// - Throws: the first error of a read (other than damaged data) or of `body`.
  func forEach(
    _ located: [CotarEntry?], paths: [[UInt8]]? = nil, _ body: (Int, Payload) async throws -> Void
  ) async throws {
    var run: [Int] = []
    var runBytes: UInt64 = 0
    func read(_ positions: [Int]) async throws -> [[UInt8]?] {
      try await cotar.read(
        entries: positions.map { located[$0] }, paths: paths.map { paths in positions.map { paths[$0] } }, options: options)
    }
    func flush() async throws {
      guard !run.isEmpty else { return }
      let results: [[UInt8]?]
      do {
        results = try await read(run)
      } catch let error as CotarError where error.isDamagedData {
        // Which entries the damage holds: each read on its own (only after such a failure).
        for position in run {
          let payload: Payload
          do {
            payload = (try await read([position]))[0].map(Payload.bytes) ?? .missing
          } catch let damage as CotarError where damage.isDamagedData {
            payload = .failed(damage)
          }
          try await body(position, payload)
        }
        run = []
        runBytes = 0
        return
      }
      for (position, bytes) in zip(run, results) { try await body(position, bytes.map(Payload.bytes) ?? .missing) }
      run = []
      runBytes = 0
    }
    for (position, entry) in located.enumerated() {
      guard let entry, entry.size > Self.streamThreshold else {
        let size = located[position]?.size ?? 0
        if runBytes + size > Self.batchBytes || run.count >= Self.batchCount { try await flush() }
        run.append(position)
        runBytes += size
        continue
      }
      try await flush()
      try await body(position, .stream(entry))
    }
    try await flush()
  }

  /// Runs `body` (a streamed read of the entry at `path`), naming `path` in a `CotarError`
  /// that names no entry (a located entry's read does not know its path).
  ///
  /// - Throws: what `body` throws.
  static func naming<Result>(_ path: [UInt8], _ body: () async throws -> Result) async throws -> Result {
    do {
      return try await body()
    } catch var error as CotarError where error.path == nil {
      error.path = String(decoding: path, as: UTF8.self)
      throw error
    }
  }
}
