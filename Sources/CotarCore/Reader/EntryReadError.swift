extension CotarError {
  /// A copy naming the entry whose data read failed: the entry `path` and the byte `offset`
  /// in the source (the start of the failed read) are filled in when not set yet. A source's
  /// own, more precise offset (where a body ended) and its code, message and cause are kept.
  /// `space` labels the filled-in offset (``OffsetSpace/uncompressedTar`` for an entry of a
  /// `.tar.gz`).
  public func namingEntry(_ path: String?, offset: UInt64, space: OffsetSpace? = nil) -> CotarError {
    var copy = self
    if copy.path == nil { copy.path = path }
    if copy.offset == nil {
      copy.offset = offset
      copy.offsetSpace = space
    }
    return copy
  }
}

/// `error` naming the entry whose read failed when it is a `CotarError`; any other error
/// (`CancellationError`) unchanged.
@inline(__always)
func entryReadError(
  _ error: any Error, path: String?, offset: UInt64, space: CotarError.OffsetSpace? = nil
) -> any Error {
  guard let error = error as? CotarError else { return error }
  return error.namingEntry(path, offset: offset, space: space)
}

/// How offsets in the tar that `source` holds are labelled in errors: the uncompressed tar
/// inside a `.tar.gz`, else (`nil`) bytes of the source itself.
func tarOffsetSpace(_ source: any RangeSource) -> CotarError.OffsetSpace? {
  source is GzipTarSource ? .uncompressedTar : nil
}

/// Runs a data read of an entry; a `CotarError` it throws names the entry and the offset.
@inline(__always)
func readingEntry<T>(
  _ path: @autoclosure () -> String?, offset: UInt64, space: CotarError.OffsetSpace? = nil, _ body: () async throws -> T
) async throws -> T {
  do {
    return try await body()
  } catch {
    throw entryReadError(error, path: path(), offset: offset, space: space)
  }
}

/// The synchronous form of ``readingEntry(_:offset:_:)``.
@inline(__always)
func readingEntrySync<T>(_ path: @autoclosure () -> String?, offset: UInt64, _ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch {
    throw entryReadError(error, path: path(), offset: offset)
  }
}

/// The member of a coalesced read that a failure concerns: the one holding the error's
/// offset, else the first.
func failedMember<Member>(
  _ members: some Collection<Member>, at offset: UInt64?, range: (Member) -> Range<UInt64>
) -> Member? {
  if let offset, let holding = members.first(where: { range($0).contains(offset) }) { return holding }
  return members.first
}
