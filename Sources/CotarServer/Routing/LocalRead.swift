import CotarCore
import NIOCore

/// An archive's data source when it reads without suspending: a ``SynchronousRangeSource``
/// (a local file, memory), possibly counted by a `CountingSource`, as the CLI opens local
/// files for `--stats`.
struct LocalRead {
  /// The source read with `pread`.
  let source: any SynchronousRangeSource
  /// The counter that records the reads, when the source is counted.
  let counting: CountingSource?

  /// `source` as a local read; `nil` for a source that must suspend (HTTP, S3).
  init?(_ source: any RangeSource) {
    let counting = source as? CountingSource
    guard let local = (counting?.base ?? source) as? any SynchronousRangeSource else { return nil }
    self.source = local
    self.counting = counting
  }

  /// Appends the bytes of `range` to `buffer` with one `pread` straight into it (nothing for
  /// an empty range), and records the read. With a header `check` (part of an entry of a
  /// sidecar layout) the tar header before the entry's data is read in the same `pread` and
  /// checked before any byte is appended.
  ///
  /// - Throws: `CotarError` from the read; `.staleIndex` (nothing appended) from the check.
  func append(_ range: Range<UInt64>, to buffer: inout ByteBuffer, checking check: EntryHeaderCheck? = nil) throws {
    let count = range.count
    guard count > 0 else { return }
    try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
      let into = UnsafeMutableRawBufferPointer(rebasing: target[..<count])
      try EntryHeaderCheck.readSync(range, from: source, into: into, checking: check)
      return count
    }
    counting?.record(check == nil ? count : count + Int(EntryHeaderCheck.blockSize))
  }
}
