#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where streamed bytes go: a file, a socket, a hash, a response body.
public protocol ByteSink {
  /// Consumes the next chunk, in order.
  ///
  /// - Throws: any error; the stream stops and its reads in flight are cancelled.
  mutating func write(_ chunk: [UInt8]) async throws
}

/// A ``ByteSink`` writing to an open file descriptor at its position with `write(2)`.
public struct FileDescriptorSink: ByteSink {
  /// The descriptor written (not closed by the sink).
  public let descriptor: Int32
  /// What the descriptor is (a path, "standard output"), for messages.
  public let name: String

  /// A sink for `descriptor`, named `name` in errors (default "file descriptor N").
  public init(descriptor: Int32, name: String? = nil) {
    self.descriptor = descriptor
    self.name = name ?? "file descriptor \(descriptor)"
  }

  /// Writes all of `chunk`, looping on short writes.
  ///
  /// - Throws: `CotarError` `.io` (a full disk, a closed pipe).
  public func write(_ chunk: [UInt8]) throws {
    do {
      try Syscall.write(descriptor, chunk[...])
    } catch {
      throw error.cotarError("write failed", source: name)
    }
  }
}

/// How ``Cotar/read(_:toFileDescriptor:named:options:progress:)`` moved the bytes.
public enum EntryCopyMethod: Sendable, Hashable {
  /// `copy_file_range(2)`: local file to local file, in the kernel.
  case copyFileRange
  /// `sendfile(2)`: local file to a pipe or socket, in the kernel.
  case sendFile
  /// Chunks read through the source and written with `write(2)` (a remote source, or no
  /// kernel copy possible).
  case readWrite
  /// Nothing to copy (a 0-byte entry).
  case none
}

extension Cotar {
  /// The bytes of a located entry as a stream of chunks in bounded memory: use it for
  /// entries of any size (``read(_:)->[UInt8]`` holds the whole entry).
  /// For a sidecar layout the first read also covers the entry's tar header, checked before
  /// the first chunk is handed out (``EntryHeaderCheck``).
  public func chunks(of entry: CotarEntry, options: StreamOptions = StreamOptions()) -> RangeChunks {
    chunks(of: entry, path: nil, options: options)
  }

  /// ``chunks(of:options:)-(CotarEntry,_)`` naming `path` in errors.
  func chunks(of entry: CotarEntry, path: String?, options: StreamOptions) -> RangeChunks {
    RangeChunks(
      source: data, range: entry.range, options: options, headerCheck: headerCheck(for: entry, path: path), entryPath: path)
  }

  /// The bytes of `path` as a stream of chunks, or `nil` when it is not indexed.
  ///
  /// - Throws: as ``entry(_:)``.
  public func chunks(of path: String, options: StreamOptions = StreamOptions()) async throws -> RangeChunks? {
    try await entry(path).map { chunks(of: $0, path: path, options: options) }
  }

  /// Streams a located entry into `sink`, chunk by chunk, holding at most
  /// ``StreamOptions/maximumBufferedBytes(local:)`` bytes.
  ///
  /// - Parameter progress: called after each chunk with the bytes done so far.
  /// - Throws: the first error of a read or of the sink; `CancellationError` when cancelled.
  public func read<Sink: ByteSink>(
    _ entry: CotarEntry, to sink: inout Sink, options: StreamOptions = StreamOptions(),
    progress: ((UInt64) -> Void)? = nil
  ) async throws {
    try await read(entry, path: nil, to: &sink, options: options, progress: progress)
  }

  /// ``read(_:to:options:progress:)`` naming `path` when a read fails.
  func read<Sink: ByteSink>(
    _ entry: CotarEntry, path: String?, to sink: inout Sink, options: StreamOptions, progress: ((UInt64) -> Void)?
  ) async throws {
    try await stream(chunks(of: entry, path: path, options: options), to: &sink, progress: progress)
  }

  /// Writes every chunk of `chunks` to `sink`, reporting the bytes done after each.
  private func stream<Sink: ByteSink>(
    _ chunks: RangeChunks, to sink: inout Sink, progress: ((UInt64) -> Void)?
  ) async throws {
    var done: UInt64 = 0
    for try await chunk in chunks {
      try await sink.write(chunk)
      done += UInt64(chunk.count)
      progress?(done)
    }
  }

  /// Streams `path` into `sink`; returns its entry, or `nil` (nothing written) when it is
  /// not indexed.
  ///
  /// - Throws: as ``entry(_:)`` and ``read(_:to:options:progress:)``.
  @discardableResult
  public func read<Sink: ByteSink>(
    _ path: String, to sink: inout Sink, options: StreamOptions = StreamOptions(), progress: ((UInt64) -> Void)? = nil
  ) async throws -> CotarEntry? {
    guard let entry = try await entry(path) else { return nil }
    try await read(entry, path: path, to: &sink, options: options, progress: progress)
    return entry
  }

  /// Writes a located entry to `descriptor` at its current position, in bounded memory.
  ///
  /// From a local file the kernel copies: `copy_file_range(2)` to a regular file (no bytes
  /// pass through user space), else `sendfile(2)` (to a pipe or socket), else chunks read
  /// and written. A remote source is streamed as ``chunks(of:options:)``: parallel range
  /// reads written in order. Cancellation is checked between copies of at most
  /// `options.partSize` bytes.
  ///
  /// - Parameters:
  ///   - name: what `descriptor` is (a path, "standard output"), for messages.
  ///   - progress: called with the bytes done so far after each copy or chunk.
  /// - Returns: how the bytes were moved (the last method used).
  /// - Throws: `CotarError` `.truncated` when the archive ends inside the entry, `.io` when
  ///   writing fails, `.staleIndex` (nothing written) when the entry's tar header does not
  ///   describe it in a sidecar layout (a kernel copy first reads that header with one
  ///   512-byte `pread`), the source's errors; `CancellationError` when cancelled.
  @discardableResult
  public func read(
    _ entry: CotarEntry, toFileDescriptor descriptor: Int32, named name: String? = nil,
    options: StreamOptions = StreamOptions(), progress: ((UInt64) -> Void)? = nil
  ) async throws -> EntryCopyMethod {
    try await read(entry, path: nil, toFileDescriptor: descriptor, named: name, options: options, progress: progress)
  }

  /// ``read(_:toFileDescriptor:named:options:progress:)`` naming `path` when a read fails.
  func read(
    _ entry: CotarEntry, path: String?, toFileDescriptor descriptor: Int32, named name: String?,
    options: StreamOptions, progress: ((UInt64) -> Void)?
  ) async throws -> EntryCopyMethod {
    if entry.size == 0 { return .none }
    var method = EntryCopyMethod.readWrite
    var done: UInt64 = 0
    var check = headerCheck(for: entry, path: path)
    if let (input, counting) = localFile() {
      let checked = check
      if let pending = check {
        // The kernel copies the data without looking at it: check the header first.
        let header = try pending.headerOffset()
        try await readingEntry(path, offset: header) {
          try await pending.mappingCut { try await pending.verify(try await data.read(header..<entry.offset)[...], from: data) }
        }
        check = nil
      }
      let output = FileDescriptorSink(descriptor: descriptor, name: name)
      (done, method) = try readingEntrySync(path, offset: entry.offset) {
        do {
          return try kernelCopy(entry, from: input, counting: counting, to: output, options: options, progress: progress)
        } catch {
          // A sidecar's tar that ends inside the entry's data was cut after it was indexed.
          throw checked?.explainingCut(error) ?? error
        }
      }
      if done == entry.size { return method }
      method = .readWrite
    }
    var sink = FileDescriptorSink(descriptor: descriptor, name: name)
    let rest = RangeChunks(
      source: data, range: (entry.offset + done)..<entry.range.upperBound, options: options, headerCheck: check,
      entryPath: path)
    let base = done
    try await stream(rest, to: &sink) { progress?(base + $0) }
    return method
  }

  /// Writes `path` to `descriptor` as ``read(_:toFileDescriptor:named:options:progress:)``;
  /// returns its entry, or `nil` (nothing written) when it is not indexed.
  ///
  /// - Throws: as ``entry(_:)`` and ``read(_:toFileDescriptor:named:options:progress:)``.
  @discardableResult
  public func read(
    _ path: String, toFileDescriptor descriptor: Int32, named name: String? = nil,
    options: StreamOptions = StreamOptions(), progress: ((UInt64) -> Void)? = nil
  ) async throws -> CotarEntry? {
    guard let entry = try await entry(path) else { return nil }
    _ = try await read(entry, path: path, toFileDescriptor: descriptor, named: name, options: options, progress: progress)
    return entry
  }

  /// The descriptor of the local file holding the data, and the counter to credit, if any.
  private func localFile() -> (Int32, CountingSource?)? {
    let counting = data as? CountingSource
    guard let file = (data as? FileSource) ?? (counting?.base as? FileSource) else { return nil }
    let fd = file.openDescriptor
    return fd >= 0 ? (fd, counting) : nil
  }

  /// Copies as much of `entry` as the kernel will: `copy_file_range`, then `sendfile`.
  /// Returns the bytes copied (the caller finishes any rest with read and write).
  private func kernelCopy(
    _ entry: CotarEntry, from input: Int32, counting: CountingSource?, to output: FileDescriptorSink, options: StreamOptions,
    progress: ((UInt64) -> Void)?
  ) throws -> (UInt64, EntryCopyMethod) {
    var offset = entry.offset
    let end = entry.offset + entry.size
    let step = UInt64(max(options.partSize, 1 << 20))
    var useCopyFileRange = true
    while offset < end {
      try Task.checkCancellation()
      let count = Int(min(step, end - offset))
      let copied: Int
      do {
        copied =
          useCopyFileRange
          ? try Syscall.copyFileRange(from: input, at: &offset, to: output.descriptor, count: count)
          : try Syscall.sendFile(to: output.descriptor, from: input, at: &offset, count: count)
      } catch let error where useCopyFileRange && Self.isUnsupportedCopy(error) {
        useCopyFileRange = false
        continue
      } catch let error where Self.isUnsupportedCopy(error) {
        break
      } catch {
        throw error.cotarError(
          "copying the entry from \(data.identity) to \(output.name) failed", offset: offset, source: output.name)
      }
      if copied == 0 { break }  // end of the input file: read and write reports the truncation
      counting?.record(copied)
      progress?(offset - entry.offset)
    }
    return (offset - entry.offset, useCopyFileRange ? .copyFileRange : .sendFile)
  }

  /// Whether a kernel copy failed only because it cannot copy between these descriptors.
  private static func isUnsupportedCopy(_ error: SystemCallError) -> Bool {
    [ENOSYS, EINVAL, EXDEV, EBADF, EOPNOTSUPP, ETXTBSY, EPERM, ESPIPE].contains(error.errno)
  }
}
