import Synchronization

/// The bytes of a range of a source as an `AsyncSequence` of chunks, in order, in bounded memory.
///
/// Reads are planned by ``StreamOptions``: a local source in fixed chunks (one read ahead of
/// the consumer), a remote one in growing parts with up to ``StreamOptions/partsInFlight``
/// range reads in flight. At most ``StreamOptions/maximumBufferedBytes(local:)`` bytes are
/// held at once, whatever the length of the range. Cancelling the consuming task cancels the
/// reads in flight and ends the stream with `CancellationError`; dropping the iterator early
/// (a `break` out of `for try await`) cancels them too.
///
/// ```swift
/// for try await chunk in cotar.chunks(of: entry) { try sink.write(chunk) }
/// ```
public struct RangeChunks: AsyncSequence, Sendable {
  /// One chunk of bytes.
  public typealias Element = [UInt8]

  /// The source read.
  public let source: any RangeSource
  /// The bytes streamed.
  public let range: Range<UInt64>
  /// Chunk sizes and reads in flight.
  public let options: StreamOptions
  /// The tar header check of the entry `range` belongs to (a sidecar layout), if any: the
  /// first read also covers the header (``EntryHeaderCheck/read(_:from:)``), and no chunk is
  /// handed out before it passed.
  public let headerCheck: EntryHeaderCheck?
  /// The entry streamed, named in read errors, when known.
  let entryPath: String?

  /// A stream of `range` of `source`; no read starts before the first `next()`.
  ///
  /// - Parameter headerCheck: the check of the entry whose bytes `range` covers, or `nil`.
  public init(
    source: any RangeSource, range: Range<UInt64>, options: StreamOptions = StreamOptions(),
    headerCheck: EntryHeaderCheck? = nil
  ) {
    self.init(source: source, range: range, options: options, headerCheck: headerCheck, entryPath: nil)
  }

  /// A stream of an entry's bytes; a failed read names `entryPath`.
  init(
    source: any RangeSource, range: Range<UInt64>, options: StreamOptions, headerCheck: EntryHeaderCheck?,
    entryPath: String?
  ) {
    self.source = source
    self.range = range
    self.options = options
    self.headerCheck = headerCheck
    self.entryPath = entryPath
  }

  /// Starts reading.
  public func makeAsyncIterator() -> Iterator {
    Iterator(source: source, range: range, options: options, headerCheck: headerCheck, entryPath: entryPath)
  }

  /// Hands out the chunks in order, keeping the planned reads in flight.
  public struct Iterator: AsyncIteratorProtocol {
    private let source: any RangeSource
    private let entryPath: String?
    private var cursor: PartCursor
    private let depth: Int
    private let pending = PendingReads()
    /// The header check, until the first read is launched with it.
    private var headerCheck: EntryHeaderCheck?

    init(
      source: any RangeSource, range: Range<UInt64>, options: StreamOptions, headerCheck: EntryHeaderCheck?,
      entryPath: String?
    ) {
      let local = CotarIndex.isLocal(source)
      self.source = source
      self.entryPath = entryPath
      self.cursor = PartCursor(range: range, options: options, local: local)
      self.depth = local ? 1 : options.partsInFlight
      self.headerCheck = headerCheck
    }

    /// The next chunk, or `nil` after the last one.
    ///
    /// - Throws: the `CotarError` of a failed read, naming the byte offset of the part read
    ///   (and the entry, when streamed from ``Cotar``); the reads still in flight are cancelled
    ///   and the stream ends. `.staleIndex` from the header check before the first chunk, or
    ///   `CancellationError` when the task is cancelled.
    public mutating func next() async throws -> [UInt8]? {
      do {
        try Task.checkCancellation()
        launch()
        guard let task = pending.popFirst() else { return nil }
        let pending = self.pending
        let bytes = try await withTaskCancellationHandler {
          try await task.value
        } onCancel: {
          task.cancel()
          pending.cancelAll()
        }
        try Task.checkCancellation()
        launch()
        return bytes
      } catch {
        pending.cancelAll()
        cursor.finish()
        throw error
      }
    }

    /// Starts reads until `depth` are in flight or the range is covered.
    private mutating func launch() {
      while pending.count < depth, let piece = cursor.next() {
        let source = self.source
        let path = entryPath
        if let check = headerCheck {
          headerCheck = nil
          pending.append(Task { try await readingEntry(path, offset: piece.lowerBound, space: tarOffsetSpace(source)) { try await check.read(piece, from: source) } })
        } else {
          pending.append(Task { try await readingEntry(path, offset: piece.lowerBound, space: tarOffsetSpace(source)) { try await source.read(piece) } })
        }
      }
    }
  }
}

/// The reads in flight of one stream; released (the iterator dropped) it cancels them.
final class PendingReads: Sendable {
  private let tasks = Mutex<[Task<[UInt8], any Error>]>([])

  var count: Int { tasks.withLock { $0.count } }

  func append(_ task: Task<[UInt8], any Error>) { tasks.withLock { $0.append(task) } }

  func popFirst() -> Task<[UInt8], any Error>? {
    tasks.withLock { $0.isEmpty ? nil : $0.removeFirst() }
  }

  func cancelAll() {
    let all = tasks.withLock { tasks in
      defer { tasks.removeAll() }
      return tasks
    }
    for task in all { task.cancel() }
  }

  deinit { cancelAll() }
}
