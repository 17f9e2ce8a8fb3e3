import CotarCore

extension S3Uploader {
  /// Smallest part S3 accepts other than the last (5 MiB).
  public static let minimumPartBytes = 5 << 20
  /// Most parts in one multipart upload.
  public static let maximumParts = 10_000

  /// Writes `source`'s bytes followed by `tail` as `object`, so that nothing is visible until
  /// all of it is stored.
  ///
  /// - When `copyFrom` names the S3 object `source` reads (same store) and it is at least
  ///   ``minimumPartBytes``, its bytes are copied server-side (`UploadPartCopy`, parts of up
  ///   to 1 GiB) and only `tail` is uploaded: nothing is downloaded.
  /// - Otherwise data up to `partBytes` (default 8 MiB) goes in one `PUT`; larger data is a
  ///   multipart upload of parts of `partBytes` (raised when needed to stay within 10,000
  ///   parts), read from `source` one part at a time, so memory stays bounded.
  ///
  /// A failed or cancelled multipart upload is aborted before the error is rethrown.
  ///
  /// - Throws: `CotarError` from reading `source` or from the store.
  public func upload(
    _ source: any RangeSource, copyFrom: S3ObjectPath? = nil, followedBy tail: [UInt8], to object: S3ObjectPath,
    partBytes: Int = 8 << 20
  ) async throws {
    let size = try await source.size()
    let total = size + UInt64(tail.count)
    if let copyFrom, size >= UInt64(Self.minimumPartBytes) {
      try await multipart(object) { id in
        var etags: [String] = []
        let maximumCopy: UInt64 = 1 << 30
        let count = (size + maximumCopy - 1) / maximumCopy
        let chunk = (size + count - 1) / count
        var start: UInt64 = 0
        while start < size {
          let end = min(size, start + chunk)
          etags.append(try await uploadPartCopy(from: copyFrom, range: start..<end, number: etags.count + 1, uploadID: id, object: object))
          start = end
        }
        if !tail.isEmpty {
          etags.append(try await uploadPart(tail, number: etags.count + 1, uploadID: id, object: object))
        }
        return etags
      }
      return
    }
    var part = UInt64(max(partBytes, Self.minimumPartBytes))
    if total <= part {
      try await put(try await source.read(0..<size) + tail, to: object)
      return
    }
    let needed = (total + UInt64(Self.maximumParts) - 1) / UInt64(Self.maximumParts)
    if needed > part { part = needed }
    try await multipart(object) { id in
      var etags: [String] = []
      var start: UInt64 = 0
      while start < total {
        try Task.checkCancellation()
        let end = min(total, start + part)
        var bytes: [UInt8] = []
        if start < size { bytes = try await source.read(start..<min(end, size)) }
        if end > size {
          let tailStart = Int(max(start, size) - size)
          bytes += tail[tailStart..<Int(end - size)]
        }
        etags.append(try await uploadPart(bytes, number: etags.count + 1, uploadID: id, object: object))
        start = end
      }
      return etags
    }
  }

  /// Runs a multipart upload: create, `body` (which returns the parts' ETags), complete; an
  /// error or cancellation in between aborts it.
  private func multipart(_ object: S3ObjectPath, _ body: (String) async throws -> [String]) async throws {
    let id = try await createMultipartUpload(object)
    do {
      let etags = try await body(id)
      try await completeMultipartUpload(object, uploadID: id, etags: etags)
    } catch {
      // Abort even when the task was cancelled, so no half-written upload lingers.
      try? await Task.detached { try await self.abortMultipartUpload(object, uploadID: id) }.value
      throw error
    }
  }
}
