import CotarCore
import HTTPTypes
import Logging
import Hummingbird
import NIOCore

extension CotarResponder {
  /// Finds an entry: `path` first, then `/path` (as linz/cotar does), then `./path` (as
  /// stored by `tar -C dir .`).
  /// A resident index (a local archive) answers without suspending (``lookupInMemory(_:in:)``).
  func lookup(_ path: [UInt8], in archive: ServedArchive) async throws -> CotarEntry? {
    if case .resolved(let found) = Self.lookupInMemory(path, in: archive) { return found }
    if let found = try await archive.cotar.entry(pathBytes: path) { return found }
    guard path.first != UInt8(ascii: "/") else { return nil }
    if let found = try await archive.cotar.entry(pathBytes: [UInt8(ascii: "/")] + path) { return found }
    guard !path.starts(with: Array("./".utf8)) else { return nil }
    return try await archive.cotar.entry(pathBytes: Array("./".utf8) + path)
  }

  /// ``lookup(_:in:)`` without I/O when the whole index is in memory (`.needsIO` otherwise).
  ///
  /// Records are not checked against the data here: every caller checks
  /// ``isWithinArchive(_:_:)`` before it reads or answers.
  static func lookupInMemory(_ path: [UInt8], in archive: ServedArchive) -> CotarIndex.InMemoryLookup {
    let index = archive.cotar.index
    let direct = index.lookupInMemory(hash: PathHash.fnv1a64(bytes: path))
    guard case .resolved(nil) = direct, path.first != UInt8(ascii: "/") else { return direct }
    let rooted = index.lookupInMemory(hash: PathHash.fnv1a64(bytes: [UInt8(ascii: "/")] + path))
    guard case .resolved(nil) = rooted, !path.starts(with: Array("./".utf8)) else { return rooted }
    return index.lookupInMemory(hash: PathHash.fnv1a64(bytes: Array("./".utf8) + path))
  }

  /// Serves an entry.
  ///
  /// - `X.gz` is sent as stored, `application/gzip`, without `Content-Encoding` (nginx's
  ///   `gzip_static` convention: the client asked for the compressed file).
  /// - `X`, when absent but `X.gz` is a gzip entry, is `X.gz`'s bytes with `Content-Encoding:
  ///   gzip` and `X`'s media type, decompressed for a client that does not accept gzip.
  /// - With `encodingFromContent`, any other entry that starts with the gzip magic is sent the
  ///   same way (tiles stored gzipped under `.pbf`).
  /// - A directory (a path with `X/<index file>`) serves its index file; without the
  ///   trailing `/` it redirects to it, so relative links in the page work.
  func entry(_ path: [UInt8], in archive: ServedArchive, request: Request) async throws -> Reply {
    let isHead = request.method == .head
    var found = try await lookup(path, in: archive)
    var encoded = false
    if found == nil, let indexFile = configuration.indexFile, !indexFile.isEmpty {
      var directory = path
      let hadSlash = directory.last == UInt8(ascii: "/")
      if !hadSlash { directory.append(UInt8(ascii: "/")) }
      let indexPath = directory + Array(indexFile.utf8)
      if let index = try await lookup(indexPath, in: archive) {
        guard hadSlash else { return Reply(redirect(to: request, appending: "/")) }
        found = index
        return try await serveEntry(index, path: indexPath, encoded: false, in: archive, request: request)
      }
    }
    if found == nil, MediaTypes.fileExtension(of: path) != "gz" {
      if let compressed = try await lookup(path + Array(".gz".utf8), in: archive),
        try await startsWithGzipMagic(compressed, in: archive)
      {
        found = compressed
        encoded = true
      }
    }
    guard let entry = found else { return Reply(Self.error(.notFound, "no such entry", head: isHead)) }
    if !encoded, configuration.encodingFromContent, MediaTypes.fileExtension(of: path) != "gz" {
      encoded = try await startsWithGzipMagic(entry, in: archive)
    }
    return try await serveEntry(entry, path: path, encoded: encoded, in: archive, request: request)
  }

  /// Whether the entry's first two bytes are the gzip magic `1F 8B`.
  private func startsWithGzipMagic(_ entry: CotarEntry, in archive: ServedArchive) async throws -> Bool {
    guard entry.size >= 2, isWithinArchive(entry, archive) else { return false }
    let magic = entry.offset..<(entry.offset + 2)
    let bytes = try await EntryHeaderCheck.read(magic, from: archive.cotar.data, checking: archive.cotar.headerCheck(for: entry))
    return bytes == [0x1F, 0x8B]
  }

  /// Whether the record's bytes lie inside the archive (a corrupt or hostile index can claim
  /// anything; checked before any status line is sent).
  func isWithinArchive(_ entry: CotarEntry, _ archive: ServedArchive) -> Bool {
    let (end, overflow) = entry.offset.addingReportingOverflow(entry.size)
    return !overflow && end <= (archive.cotar.dataLimit ?? archive.tarSize)
  }

  /// A `301` to the request's path with `suffix` appended (the query kept).
  private func redirect(to request: Request, appending suffix: String) -> Response {
    var location = request.uri.path + suffix
    if let query = request.uri.query, !query.isEmpty { location += "?" + query }
    var response = Self.error(.movedPermanently, "see \(location)", head: request.method == .head)
    response.headers[.location] = location
    return response
  }

  private func serveEntry(
    _ entry: CotarEntry, path: [UInt8], encoded: Bool, in archive: ServedArchive, request: Request
  ) async throws -> Reply {
    guard isWithinArchive(entry, archive) else {
      logger.error(
        "\(request.method) \(request.uri.path): the index claims bytes \(entry.offset) + \(entry.size) of \(archive.name), past its end (\(archive.cotar.dataLimit ?? archive.tarSize)); answering 500")
      return Reply(Self.error(.internalServerError, "the archive's index is corrupt for this entry", head: request.method == .head))
    }
    var headers = entryHeaders(path: path, in: archive)
    if encoded {
      headers[.vary] = "Accept-Encoding"
      if !ContentNegotiation.acceptsGzip(request.headers[.acceptEncoding]) {
        let tag = EntityTag.entry(archiveTag: archive.tag, offset: entry.offset, size: entry.size, variant: "gunzip")
        return try await decompressed(entry, path: path, from: archive, tag: tag, headers: headers, request: request)
      }
      headers[.contentEncoding] = "gzip"
    }
    let tag = EntityTag.entry(archiveTag: archive.tag, offset: entry.offset, size: entry.size)
    return try await representation(
      archive.cotar.data, span: entry.range, prefetched: nil, tag: tag, lastModified: archive.lastModified,
      headers: headers, request: request,
      check: archive.cotar.headerCheck(for: entry, path: String(decoding: path, as: UTF8.self)))
  }

  /// The headers every answer for the entry at `path` carries: `Cache-Control`,
  /// `Last-Modified` and `Content-Type`.
  func entryHeaders(path: [UInt8], in archive: ServedArchive) -> HTTPFields {
    var headers = HTTPFields()
    if let cacheControl = configuration.cacheControl { headers[.cacheControl] = cacheControl }
    if let lastModified = archive.lastModified { headers[.lastModified] = lastModifiedText(lastModified) }
    headers[.contentType] = MediaTypes.type(forPath: path)
    return headers
  }

  /// Serves the raw bytes of an archive's tar or sidecar source.
  func rawBytes(
    _ source: any RangeSource, size: UInt64, of archive: ServedArchive, request: Request, variant: String? = nil
  ) async throws -> Reply {
    var headers: HTTPFields = [.contentType: MediaTypes.fallback]
    if let cacheControl = configuration.cacheControl { headers[.cacheControl] = cacheControl }
    if let lastModified = archive.lastModified { headers[.lastModified] = lastModified.description }
    let tag = EntityTag(opaque: variant.map { "\(archive.tag)-\($0)" } ?? archive.tag)
    return try await representation(
      source, span: 0..<size, prefetched: nil, tag: tag, lastModified: archive.lastModified, headers: headers,
      request: request)
  }

  /// Answers for `span` of `source` with conditional requests and single byte ranges.
  ///
  /// Selected bytes up to the chunk size are read before answering (one read, and a read
  /// error becomes a 500 rather than a cut connection); larger ones are streamed.
  /// With a header `check` (an entry of a sidecar layout, `span` its bytes) the first read
  /// also covers the entry's tar header (for a range far into the entry, a 512-byte read made
  /// at the same time), checked before the status line: a stale index is a 500, never wrong
  /// bytes.
  /// - Parameter prefetched: the bytes of `span` when already read.
  /// - Throws: `CotarError` from reading `source`; `.staleIndex` from the check.
  func representation(
    _ source: any RangeSource, span: Range<UInt64>, prefetched: [UInt8]?, tag: EntityTag, lastModified: HTTPDate?,
    headers: HTTPFields, request: Request, check: EntryHeaderCheck? = nil
  ) async throws -> Reply {
    var headers = headers
    headers[.eTag] = tag.description
    if let failed = preconditionFailed(request, tag: tag, lastModified: lastModified) { return Reply(failed) }
    if isNotModified(request, tag: tag, lastModified: lastModified) { return Reply(Self.notModified(headers)) }
    headers[.acceptRanges] = "bytes"
    let length = UInt64(span.count)
    var rangeHeader = request.headers[.range]
    if let ifRange = request.headers[.ifRange], !tag.allowsRange(ifRange: ifRange, lastModified: lastModified) {
      rangeHeader = nil
    }
    let status: HTTPResponse.Status
    let selected: Range<UInt64>
    switch ByteRangeRequest(header: rangeHeader, length: length) {
    case .whole:
      status = .ok
      selected = 0..<length
    case .partial(let range):
      status = .partialContent
      selected = range
      headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(length)"
    case .unsatisfiable:
      headers[.contentRange] = "bytes */\(length)"
      headers[.contentType] = nil
      headers[.contentEncoding] = nil
      return Reply(Response(status: .rangeNotSatisfiable, headers: headers))
    }
    headers[.contentLength] = String(selected.count)
    if request.method == .head { return Reply(Response(status: status, headers: headers)) }
    if let prefetched {
      let bytes = prefetched[Int(selected.lowerBound)..<Int(selected.upperBound)]
      return Reply(Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))))
    }
    let absolute = (span.lowerBound + selected.lowerBound)..<(span.lowerBound + selected.upperBound)
    if absolute.count <= configuration.chunkSize {
      let buffer = try await Self.buffer(absolute, of: source, checking: check)
      return Reply(Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer)))
    }
    var streamer = RangeStreamer(
      source: source, range: absolute, chunkSize: configuration.chunkSize, stallTimeout: configuration.limits.idleTimeout)
    if let check {
      // The first chunk (with the header) is read and checked before the status line is sent.
      let firstEnd = absolute.lowerBound + UInt64(configuration.chunkSize)
      let first = try await Self.buffer(absolute.lowerBound..<firstEnd, of: source, checking: check)
      streamer = RangeStreamer(
        source: source, range: firstEnd..<absolute.upperBound, chunkSize: configuration.chunkSize,
        stallTimeout: configuration.limits.idleTimeout, first: first)
    }
    let planned = streamer
    let body = ResponseBody(contentLength: absolute.count) { writer in try await planned.write(to: &writer) }
    return Reply(Response(status: status, headers: headers, body: body), streamed: true)
  }

  /// The bytes of `range` in a new buffer: a local source (``LocalRead``) reads with one
  /// `pread` straight into it, without suspending; others read, then copy.
  /// With a header `check`, the entry's tar header is read with the bytes and checked first.
  static func buffer(
    _ range: Range<UInt64>, of source: any RangeSource, checking check: EntryHeaderCheck? = nil
  ) async throws -> ByteBuffer {
    guard let local = LocalRead(source) else {
      return ByteBuffer(bytes: try await EntryHeaderCheck.read(range, from: source, checking: check))
    }
    var buffer = ByteBufferAllocator().buffer(capacity: range.count)
    try local.append(range, to: &buffer, checking: check)
    return buffer
  }

  /// A gzip-stored entry decompressed on the fly for a client that does not accept gzip: no
  /// length is known in advance, so the body is chunked and `Range` is ignored. In a sidecar
  /// layout the first chunk is read, with the entry's tar header checked, before answering.
  private func decompressed(
    _ entry: CotarEntry, path: [UInt8], from archive: ServedArchive, tag: EntityTag, headers: HTTPFields,
    request: Request
  ) async throws -> Reply {
    var headers = headers
    headers[.eTag] = tag.description
    if let failed = preconditionFailed(request, tag: tag, lastModified: archive.lastModified) { return Reply(failed) }
    if isNotModified(request, tag: tag, lastModified: archive.lastModified) { return Reply(Self.notModified(headers)) }
    headers[.acceptRanges] = "none"
    if request.method == .head {
      var response = Response(status: .ok, headers: headers)
      response.headers[.contentLength] = nil
      return Reply(response)
    }
    let source = archive.cotar.data
    let chunkSize = configuration.chunkSize
    let stallTimeout = configuration.limits.idleTimeout
    var first: [UInt8]?
    if let check = archive.cotar.headerCheck(for: entry, path: String(decoding: path, as: UTF8.self)) {
      first = try await check.read(entry.offset..<min(entry.offset + UInt64(chunkSize), entry.offset + entry.size), from: source)
    }
    let prefetched = first
    let body = ResponseBody(contentLength: nil) { writer in
      let inflater = try GzipInflater()
      var offset = entry.offset
      while offset < entry.offset + entry.size {
        let end = min(offset + UInt64(chunkSize), entry.offset + entry.size)
        let compressed: [UInt8]
        if offset == entry.offset, let prefetched { compressed = prefetched } else { compressed = try await source.read(offset..<end) }
        try await inflater.inflate(compressed, maximumOutput: chunkSize) { piece in
          try await SendWindow.current?.reserve(piece.count, stallTimeout: stallTimeout)
          try await writer.write(ByteBuffer(bytes: piece))
        }
        offset = end
      }
      try inflater.finish()
      try await writer.finish(nil)
    }
    return Reply(Response(status: .ok, headers: headers, body: body), streamed: true)
  }

  /// `412` when `If-Match` (strong comparison; `*` matches any current representation) or,
  /// without it, `If-Unmodified-Since` fails (RFC 9110 §13.2.2 steps 1 and 2); `nil` to go on.
  func preconditionFailed(_ request: Request, tag: EntityTag, lastModified: HTTPDate?) -> Response? {
    let head = request.method == .head
    if let ifMatch = request.headers[.ifMatch] {
      guard tag.matches(ifMatch: ifMatch) else {
        return Self.error(.preconditionFailed, "If-Match does not match the current ETag \(tag)", head: head)
      }
      return nil
    }
    if let since = request.headers[.ifUnmodifiedSince].flatMap(HTTPDate.init(parsing:)) {
      // Without a modification time the condition cannot be evaluated and is ignored.
      if let lastModified, lastModified > since {
        return Self.error(.preconditionFailed, "modified since \(since)", head: head)
      }
    }
    return nil
  }

  /// `If-None-Match` (weak comparison) wins over `If-Modified-Since` (RFC 9110 §13.2.2).
  private func isNotModified(_ request: Request, tag: EntityTag, lastModified: HTTPDate?) -> Bool {
    if let ifNoneMatch = request.headers[.ifNoneMatch] { return tag.matches(ifNoneMatch: ifNoneMatch) }
    guard let since = request.headers[.ifModifiedSince].flatMap(HTTPDate.init(parsing:)), let lastModified else {
      return false
    }
    return lastModified <= since
  }

  /// 304 with the validators and caching headers but no body or length.
  private static func notModified(_ headers: HTTPFields) -> Response {
    var headers = headers
    headers[.contentType] = nil
    headers[.contentEncoding] = nil
    var response = Response(status: .notModified, headers: headers)
    response.headers[.contentLength] = nil
    return response
  }
}
