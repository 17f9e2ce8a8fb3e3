import CotarCore
import HTTPTypes
import NIOCore

extension CotarResponder {
  /// A whole answer computed on the event loop, without a task: see
  /// ``fastAnswer(isHead:target:)``.
  struct FastAnswer {
    var head: HTTPResponse
    /// Where the body's bytes are (`nil` for HEAD): ``writeBody(into:)`` reads them.
    var body: Range<UInt64>?
    /// The archive's data, readable without suspending.
    var data: LocalRead
    /// The tar header check of the entry (a sidecar layout), done with the body's read.
    var check: EntryHeaderCheck?
    /// The access-log line's byte count.
    var loggedBytes: Int

    /// Appends the body to `buffer` with one `pread` (nothing for HEAD or an empty entry).
    ///
    /// - Throws: `CotarError` from the read (the caller then answers through the general
    ///   path, which reports it).
    func writeBody(into buffer: inout ByteBuffer) throws {
      if let body { try data.append(body, to: &buffer, checking: check) }
    }
  }

  /// The answer to the commonest request — `GET` or `HEAD` of a small entry of a local
  /// archive, found at its exact path, with no query (the caller has checked that there are
  /// no conditional, range or `Origin` headers) — computed synchronously: an in-memory index
  /// lookup, and for GET one `pread` (``FastAnswer/writeBody(into:)``). Every other request
  /// returns `nil` and takes the general path, which gives the same answer for these
  /// (``FastPathTests`` compares the two).
  func fastAnswer(isHead: Bool, target: Substring) -> FastAnswer? {
    guard !target.contains("?"), case .file(let position, let path)? = try? Route(path: target, archives: routeNames)
    else { return nil }
    // A local archive whose files changed is reopened on the general path.
    guard !reopenIsDue(at: position) else { return nil }
    let archive = archive(at: position)
    guard let data = LocalRead(archive.cotar.data),
      case .resolved(let found?) = Self.lookupInMemory(path, in: archive), isWithinArchive(found, archive),
      found.size <= UInt64(configuration.chunkSize)
    else { return nil }
    if configuration.encodingFromContent, MediaTypes.fileExtension(of: path) != "gz" { return nil }
    var headers = entryHeaders(path: path, in: archive)
    headers[.eTag] = EntityTag.entry(archiveTag: archive.tag, offset: found.offset, size: found.size).description
    headers[.acceptRanges] = "bytes"
    let count = Int(found.size)
    headers[.contentLength] = String(count)
    // As the general path adds them last (``respond(to:context:)``); the request has no `Origin`.
    cors?.apply(to: &headers, origin: nil)
    return FastAnswer(
      head: HTTPResponse(status: .ok, headerFields: headers), body: isHead ? nil : found.range, data: data,
      check: archive.cotar.headerCheck(for: found, path: String(decoding: path, as: UTF8.self)),
      loggedBytes: isHead ? 0 : count)
  }

  /// Writes the access-log line of a fast answer (when the log is on).
  func logFastAnswer(isHead: Bool, target: Substring, _ answer: FastAnswer, start: ContinuousClock.Instant) {
    guard let accessLogBuffer else { return }
    Self.logLine(
      accessLogBuffer, method: isHead ? .head : .get, path: String(target), status: answer.head.status.code,
      bytes: answer.loggedBytes, start: start, failure: nil)
  }
}
