import AsyncHTTPClient
import CotarCore
import CotarHTTP
import NIOCore
import NIOHTTP1
import Synchronization

/// Writes objects to S3 with signed requests: a single `PUT`, or a multipart upload whose
/// parts are uploaded from memory or copied server-side (`UploadPartCopy`).
public struct S3Uploader: Sendable {
  /// The endpoint, region, addressing and credentials.
  public let s3: S3Configuration
  /// Time allowed for one request.
  public let requestTimeout: Duration
  private let client: HTTPClient
  private let counter = UploadCounter()

  /// Requests sent and body bytes sent so far (all copies of this uploader share them).
  public var statistics: S3UploadStatistics { counter.figures.withLock { $0 } }

  /// Creates an uploader.
  ///
  /// - Parameters:
  ///   - client: the HTTP client (the caller owns it).
  ///   - s3: endpoint, region, addressing and credentials.
  ///   - requestTimeout: time allowed for one request (default 5 minutes).
  public init(client: HTTPClient = .shared, s3: S3Configuration, requestTimeout: Duration = .seconds(300)) {
    self.client = client
    self.s3 = s3
    self.requestTimeout = requestTimeout
  }

  /// Stores `bytes` as `object` with one `PUT`.
  ///
  /// - Throws: `CotarError` `.httpStatus` or `.notFound` (naming the bucket and key, and the
  ///   credentials for a refusal), `.io` when the store cannot be reached.
  public func put(_ bytes: [UInt8], to object: S3ObjectPath) async throws {
    _ = try await send(method: .PUT, object: object, query: nil, body: bytes)
  }

  /// Starts a multipart upload and returns its id.
  ///
  /// - Throws: as ``put(_:to:)``.
  public func createMultipartUpload(_ object: S3ObjectPath) async throws -> String {
    let (_, body) = try await send(method: .POST, object: object, query: "uploads=", body: [])
    guard let id = Self.element("UploadId", in: body) else {
      throw CotarError(.httpStatus, "the store started a multipart upload without an UploadId", source: object.description)
    }
    return id
  }

  /// Uploads one part (numbered from 1) and returns its ETag.
  ///
  /// - Throws: as ``put(_:to:)``.
  public func uploadPart(_ bytes: [UInt8], number: Int, uploadID: String, object: S3ObjectPath) async throws -> String {
    let (headers, _) = try await send(
      method: .PUT, object: object, query: "partNumber=\(number)&uploadId=\(S3Encoding.encode(uploadID, keepSlash: false))",
      body: bytes)
    guard let etag = headers.first(name: "ETag") else {
      throw CotarError(.httpStatus, "the store accepted part \(number) without an ETag", source: object.description)
    }
    return etag
  }

  /// Copies `range` of `source` into part `number` server-side (`UploadPartCopy`): the bytes
  /// are not downloaded. Returns the part's ETag.
  ///
  /// - Throws: as ``put(_:to:)``.
  public func uploadPartCopy(
    from source: S3ObjectPath, range: Range<UInt64>, number: Int, uploadID: String, object: S3ObjectPath
  ) async throws -> String {
    let copySource = "/" + source.bucket + "/" + S3Encoding.encode(source.key, keepSlash: true)
    let (_, body) = try await send(
      method: .PUT, object: object, query: "partNumber=\(number)&uploadId=\(S3Encoding.encode(uploadID, keepSlash: false))",
      body: [],
      extraHeaders: [
        ("x-amz-copy-source", copySource),
        ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"),
      ])
    guard let etag = Self.element("ETag", in: body) else {
      throw CotarError(.httpStatus, "the store copied part \(number) without an ETag", source: object.description)
    }
    return etag.replacingQuotEntities()
  }

  /// Completes a multipart upload from its parts' ETags, in order; only now is the object visible.
  ///
  /// - Throws: as ``put(_:to:)``; an error answer inside a 200 (S3 may send one) too.
  public func completeMultipartUpload(_ object: S3ObjectPath, uploadID: String, etags: [String]) async throws {
    var xml = "<CompleteMultipartUpload>"
    for (index, etag) in etags.enumerated() { xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(etag)</ETag></Part>" }
    xml += "</CompleteMultipartUpload>"
    let (_, body) = try await send(
      method: .POST, object: object, query: "uploadId=\(S3Encoding.encode(uploadID, keepSlash: false))", body: Array(xml.utf8))
    if let code = Self.element("Code", in: body) {
      throw CotarError(
        .httpStatus, "completing the multipart upload failed: \(code) (bucket '\(object.bucket)', key '\(object.key)')",
        source: object.description)
    }
  }

  /// Aborts a multipart upload, so none of its parts become visible.
  ///
  /// - Throws: as ``put(_:to:)``.
  public func abortMultipartUpload(_ object: S3ObjectPath, uploadID: String) async throws {
    _ = try await send(
      method: .DELETE, object: object, query: "uploadId=\(S3Encoding.encode(uploadID, keepSlash: false))", body: [])
  }

  /// Deletes `object` (S3 answers success for a key that does not exist).
  ///
  /// - Throws: as ``put(_:to:)``.
  public func delete(_ object: S3ObjectPath) async throws {
    _ = try await send(method: .DELETE, object: object, query: nil, body: [])
  }

  /// One signed request; a non-2xx answer becomes an explained `CotarError`.
  func send(
    method: HTTPMethod, object: S3ObjectPath, query: String?, body: [UInt8], extraHeaders: [(String, String)] = []
  ) async throws -> (HTTPHeaders, String) {
    let url = s3.url(for: object, query: query)
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in extraHeaders { request.headers.replaceOrAdd(name: name, value: value) }
    if method == .PUT || method == .POST {
      request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
      request.body = .bytes(ByteBuffer(bytes: body))
    }
    if let credentials = s3.credentials {
      try S3Signer(credentials: credentials, region: s3.region)
        .sign(method: method.rawValue, url: url, headers: &request.headers, payloadHash: S3Signer.payloadHash(body))
    }
    let response: HTTPClientResponse
    var text = ""
    counter.figures.withLock {
      $0.requests += 1
      $0.bytesSent += UInt64(body.count)
    }
    do {
      response = try await client.execute(request, timeout: TimeAmount.nanoseconds(requestTimeout.nanoseconds))
      var buffer = try await response.body.collect(upTo: 1 << 20)
      text = buffer.readString(length: buffer.readableBytes) ?? ""
    } catch {
      let failure = HTTPTransportFailure.classify(error)
      throw CotarError(
        .io, "cannot \(method.rawValue) bucket '\(object.bucket)', key '\(object.key)'", source: object.description,
        cause: failure)
    }
    let status = Int(response.status.code)
    guard (200...299).contains(status) else {
      let failure = HTTPStatusFailure(status: status, reason: response.status.reasonPhrase, serviceCode: Self.element("Code", in: text))
      let code: CotarError.Code = status == 404 ? .notFound : .httpStatus
      let message = S3Failure.explain(
        code: code, status: failure, message: "\(method.rawValue) refused", object: object, s3: s3)
      throw CotarError(code, message, source: object.description, cause: failure)
    }
    return (response.headers, text)
  }

  /// The text of the first `<name>…</name>` in `xml`.
  static func element(_ name: String, in xml: String) -> String? {
    guard let open = xml.firstRange(of: "<\(name)>"), let close = xml[open.upperBound...].firstRange(of: "</\(name)>") else {
      return nil
    }
    return String(xml[open.upperBound..<close.lowerBound])
  }
}

extension Duration {
  /// The duration in whole nanoseconds (saturating).
  var nanoseconds: Int64 {
    let (seconds, attoseconds) = components
    let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    return overflow ? .max : product &+ attoseconds / 1_000_000_000
  }
}

extension String {
  /// `&quot;` as `"` (ETags in XML bodies).
  func replacingQuotEntities() -> String {
    var out = ""
    var rest = Substring(self)
    while let range = rest.firstRange(of: "&quot;") {
      out += rest[..<range.lowerBound]
      out += "\""
      rest = rest[range.upperBound...]
    }
    return out + rest
  }
}

/// Requests and bytes of an ``S3Uploader``.
public struct S3UploadStatistics: Sendable, Hashable {
  /// Requests sent (PUT, POST, DELETE, part copies).
  public var requests = 0
  /// Request body bytes sent (bytes copied server-side are not counted).
  public var bytesSent: UInt64 = 0
}

/// The shared counter of an ``S3Uploader``.
final class UploadCounter: Sendable {
  let figures = Mutex(S3UploadStatistics())
}
