import CotarCore
import HTTPTypes
import Hummingbird
import NIOCore

extension CotarResponder {
  /// Serves an entry: `path` first, then `/path` (as linz/cotar does), then `./path` (as
  /// stored by `tar -C dir .`).
  func entry(_ path: [UInt8], in archive: ServedArchive, request: Request) async throws -> Reply {
    let isHead = request.method == .head
    var found = try await archive.cotar.entry(pathBytes: path)
    if found == nil, path.first != UInt8(ascii: "/") {
      found = try await archive.cotar.entry(pathBytes: [UInt8(ascii: "/")] + path)
      if found == nil, !path.starts(with: Array("./".utf8)) {
        found = try await archive.cotar.entry(pathBytes: Array("./".utf8) + path)
      }
    }
    guard let entry = found else { return Reply(Self.error(.notFound, "no such entry", head: isHead)) }

    // A .gz entry needs its first bytes to confirm the gzip magic; a small one is read whole.
    let isGzipName = MediaTypes.fileExtension(of: path) == "gz"
    var prefetched: [UInt8]?
    if isGzipName, entry.size <= UInt64(configuration.chunkSize) {
      prefetched = try await archive.cotar.read(entry)
    }
    let isGzip: Bool
    if isGzipName, entry.size >= 2 {
      let magic: [UInt8]
      if let prefetched {
        magic = Array(prefetched.prefix(2))
      } else {
        magic = try await archive.cotar.data.read(offset: entry.offset, count: 2)
      }
      isGzip = magic == [0x1F, 0x8B]
    } else {
      isGzip = false
    }

    var headers = HTTPFields()
    if let cacheControl = configuration.cacheControl { headers[.cacheControl] = cacheControl }
    if let lastModified = archive.lastModified { headers[.lastModified] = lastModified.description }
    if isGzip {
      headers[.contentType] = MediaTypes.type(forPath: path.dropLast(3))
      headers[.vary] = "Accept-Encoding"
      if !ContentNegotiation.acceptsGzip(request.headers[.acceptEncoding]) {
        let tag = EntityTag.entry(archiveTag: archive.tag, offset: entry.offset, size: entry.size, variant: "gunzip")
        return decompressed(entry, from: archive, tag: tag, headers: headers, request: request)
      }
      headers[.contentEncoding] = "gzip"
    } else {
      headers[.contentType] = MediaTypes.type(forPath: path)
    }
    let tag = EntityTag.entry(archiveTag: archive.tag, offset: entry.offset, size: entry.size)
    return try await representation(
      archive.cotar.data, span: entry.range, prefetched: prefetched, tag: tag, lastModified: archive.lastModified,
      headers: headers, request: request)
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
  /// - Parameter prefetched: the bytes of `span` when already read.
  /// - Throws: `CotarError` from reading `source`.
  func representation(
    _ source: any RangeSource, span: Range<UInt64>, prefetched: [UInt8]?, tag: EntityTag, lastModified: HTTPDate?,
    headers: HTTPFields, request: Request
  ) async throws -> Reply {
    var headers = headers
    headers[.eTag] = tag.description
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
      let bytes = try await source.read(absolute)
      return Reply(Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))))
    }
    let streamer = RangeStreamer(source: source, range: absolute, chunkSize: configuration.chunkSize)
    let body = ResponseBody(contentLength: absolute.count) { writer in try await streamer.write(to: &writer) }
    return Reply(Response(status: status, headers: headers, body: body), streamed: true)
  }

  /// A `.gz` entry decompressed on the fly for a client that does not accept gzip: no
  /// length is known in advance, so the body is chunked and `Range` is ignored.
  private func decompressed(
    _ entry: CotarEntry, from archive: ServedArchive, tag: EntityTag, headers: HTTPFields, request: Request
  ) -> Reply {
    var headers = headers
    headers[.eTag] = tag.description
    if isNotModified(request, tag: tag, lastModified: archive.lastModified) { return Reply(Self.notModified(headers)) }
    headers[.acceptRanges] = "none"
    if request.method == .head {
      var response = Response(status: .ok, headers: headers)
      response.headers[.contentLength] = nil
      return Reply(response)
    }
    let source = archive.cotar.data
    let chunkSize = configuration.chunkSize
    let body = ResponseBody(contentLength: nil) { writer in
      let inflater = try GzipInflater()
      var offset = entry.offset
      while offset < entry.offset + entry.size {
        let end = min(offset + UInt64(chunkSize), entry.offset + entry.size)
        let compressed = try await source.read(offset..<end)
        try await inflater.inflate(compressed, maximumOutput: chunkSize) { piece in
          try await writer.write(ByteBuffer(bytes: piece))
        }
        offset = end
      }
      try inflater.finish()
      try await writer.finish(nil)
    }
    return Reply(Response(status: .ok, headers: headers, body: body), streamed: true)
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
