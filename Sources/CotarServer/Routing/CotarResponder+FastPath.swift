import CotarCore
import HTTPTypes
import NIOCore

extension CotarResponder {
  /// A whole answer computed on the event loop, without a task: see ``fastAnswer(_:)``.
  struct FastAnswer {
    var head: HTTPResponse
    /// The body (`nil` for HEAD).
    var body: ByteBuffer?
    /// The access-log line's byte count.
    var loggedBytes: Int
  }

  /// Request headers whose handling lives only in the general path (``respond(to:context:)``).
  private static let slowPathFields: [HTTPField.Name] = [
    .range, .ifRange, .ifMatch, .ifNoneMatch, .ifModifiedSince, .ifUnmodifiedSince, .origin,
  ]

  /// The answer to the commonest request — `GET` or `HEAD` of a small entry of a local
  /// archive, found at its exact path, with no query and no conditional, range or CORS
  /// headers — computed synchronously: an in-memory index lookup and one `pread`
  /// into the body buffer. Every other request returns `nil` and takes the general path,
  /// which gives the same answer for these (``FastPathTests`` compares the two).
  ///
  /// - Throws: `CotarError` from the read (the caller then answers through the general
  ///   path, which reports it).
  func fastAnswer(_ request: HTTPRequest) throws -> FastAnswer? {
    let isHead = request.method == .head
    guard request.method == .get || isHead, let target = request.path, !target.contains("?") else { return nil }
    for name in Self.slowPathFields where request.headerFields.contains(name) { return nil }
    // `Connection: keep-alive` (browsers send it) changes nothing; `close` is left to the
    // general path, which closes after the answer.
    if let connection = request.headerFields[.connection], connection.lowercased() != "keep-alive" { return nil }
    guard case .file(let position, let path)? = try? Route(path: target[...], archives: routeNames) else { return nil }
    let archive = archive(at: position)
    guard case .resolved(let found?) = Self.lookupInMemory(path, in: archive), isWithinArchive(found, archive),
      found.size <= UInt64(configuration.chunkSize)
    else { return nil }
    if configuration.encodingFromContent, MediaTypes.fileExtension(of: path) != "gz" { return nil }
    var headers = entryHeaders(path: path, in: archive)
    headers[.eTag] = EntityTag.entry(archiveTag: archive.tag, offset: found.offset, size: found.size).description
    headers[.acceptRanges] = "bytes"
    let count = Int(found.size)
    headers[.contentLength] = String(count)
    let head = HTTPResponse(status: .ok, headerFields: headers)
    if isHead {
      guard Self.isLocal(archive.cotar.data) else { return nil }
      return FastAnswer(head: head, body: nil, loggedBytes: 0)
    }
    guard let buffer = try Self.bufferWithoutSuspending(found.range, of: archive.cotar.data) else { return nil }
    return FastAnswer(head: head, body: buffer, loggedBytes: count)
  }

  /// Whether `source` reads without suspending (see ``bufferWithoutSuspending(_:of:)``).
  static func isLocal(_ source: any RangeSource) -> Bool {
    ((source as? CountingSource)?.base ?? source) is any SynchronousRangeSource
  }

  /// Writes the access-log line of a fast answer (when the log is on).
  func logFastAnswer(_ request: HTTPRequest, _ answer: FastAnswer, start: ContinuousClock.Instant) {
    guard let accessLogBuffer else { return }
    let path = request.path.map { String($0.prefix { $0 != "?" }) } ?? ""
    Self.logLine(
      accessLogBuffer, method: request.method, path: path, status: answer.head.status.code, bytes: answer.loggedBytes,
      start: start, failure: nil)
  }
}
