import CotarCore

extension AtomicFileWriter {
  /// Appends the bytes of a located entry of `cotar`, streamed in bounded memory: copied by
  /// the kernel from a local archive, parallel range reads written in order from a remote one
  /// (see ``Cotar/read(_:toFileDescriptor:named:options:progress:)``).
  ///
  /// - Parameter progress: called with the entry bytes written so far.
  /// - Returns: how the bytes were moved.
  /// - Throws: `CotarError` from reading the archive, `.io` when writing fails,
  ///   `CancellationError` when cancelled; the destination is untouched until ``commit()``.
  @discardableResult
  public func write(
    _ entry: CotarEntry, of cotar: Cotar, options: StreamOptions = StreamOptions(), progress: ((UInt64) -> Void)? = nil
  ) async throws -> EntryCopyMethod {
    let method = try await cotar.read(
      entry, toFileDescriptor: descriptor, named: temporaryPath, options: options, progress: progress)
    bytesWritten += entry.size
    return method
  }
}
