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
  /// an empty range), and records the read.
  ///
  /// - Throws: `CotarError` from the read.
  func append(_ range: Range<UInt64>, to buffer: inout ByteBuffer) throws {
    let count = range.count
    guard count > 0 else { return }
    try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
      try source.readSync(range, into: UnsafeMutableRawBufferPointer(rebasing: target[..<count]))
      return count
    }
    counting?.record(count)
  }

  /// ``append(_:to:)`` of part of an entry of a sidecar layout: the tar header before the
  /// entry's data is read with the bytes (one `pread`) and checked before any byte is appended.
  ///
  /// - Throws: `CotarError` `.staleIndex` (nothing appended) as ``EntryHeaderCheck``, or from the read.
  func append(_ range: Range<UInt64>, to buffer: inout ByteBuffer, checking check: EntryHeaderCheck) throws {
    let count = range.count
    guard count > 0 else { return }
    try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
      try check.readSync(range, from: source, into: UnsafeMutableRawBufferPointer(rebasing: target[..<count]))
      return count
    }
    counting?.record(count + Int(EntryHeaderCheck.blockSize))
  }
}
