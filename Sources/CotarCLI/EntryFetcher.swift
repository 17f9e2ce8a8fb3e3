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
  }

  /// Entries larger than this are streamed on their own (bounded memory, kernel copy from a
  /// local archive); smaller ones are read in coalesced batches.
  static let streamThreshold: UInt64 = TransferProgress.threshold
  /// Bytes of small entries held at once.
  static let batchBytes: UInt64 = 64 << 20
  /// Entries read in one batch at most.
  static let batchCount = 1024

  /// Runs `body`, a streamed read of `entry`; a `CotarError` it throws at a byte offset of
  /// the entry (a failed read, not a failed write) names `path`.
  static func streaming<T>(_ path: [UInt8], _ entry: CotarEntry, _ body: () async throws -> T) async throws -> T {
    do {
      return try await body()
    } catch {
      throw holds(entry, error) ? naming(error, path) : error
    }
  }

  /// Whether `error` is a `CotarError` without a path at a byte offset inside `entry`.
  private static func holds(_ entry: CotarEntry?, _ error: any Error) -> Bool {
    guard let entry, let error = error as? CotarError, error.path == nil, let offset = error.offset else { return false }
    return entry.range.contains(offset)
  }

  /// `error` (a `CotarError`) with its entry path set to `path`, escaped for messages.
  private static func naming(_ error: any Error, _ path: [UInt8]) -> any Error {
    guard var error = error as? CotarError else { return error }
    error.path = String(decoding: escapedName(path), as: UTF8.self)
    return error
  }

  /// The archive read from.
  var cotar: Cotar
  /// Concurrency and coalescing of the batch reads.
  var options: BatchReadOptions

  /// Calls `body` with the position in `located` and the payload of every entry, in order.
  ///
  /// - Parameter path: the path of the entry at a position, named by a failed read.
  /// - Throws: the first error of a read or of `body`; a `CotarError` of a read (a batch, or a
  ///   stream in `body`) names the entry and its byte offset.
  func forEach(
    _ located: [CotarEntry?], path: (Int) -> [UInt8], _ body: (Int, Payload) async throws -> Void
  ) async throws {
    var run: [Int] = []
    var runBytes: UInt64 = 0
    /// `error` naming the entry of `positions` that holds its byte offset.
    func naming(_ error: any Error, among positions: [Int]) -> any Error {
      guard let position = positions.first(where: { Self.holds(located[$0], error) }) else { return error }
      return Self.naming(error, path(position))
    }
    func flush() async throws {
      guard !run.isEmpty else { return }
      let results: [[UInt8]?]
      do {
        results = try await cotar.read(entries: run.map { located[$0] }, options: options)
      } catch {
        throw naming(error, among: run)
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
}
