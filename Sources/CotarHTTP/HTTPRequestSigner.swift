import NIOHTTP1

/// Authenticates each request an ``HTTPRangeSource`` sends, by adding headers computed from
/// the request (such as AWS Signature Version 4, in `CotarS3`).
///
/// The signer is called for every try, retries included, after all other headers are set,
/// so a time-stamped signature is always fresh. It is not called for a request to a
/// remembered redirect target (a signature covers one URL only).
public protocol HTTPRequestSigner: Sendable {
  /// Adds authentication headers to a request about to be sent.
  ///
  /// - Parameters:
  ///   - method: the HTTP method, such as `GET`.
  ///   - url: the full request URL.
  ///   - headers: the request's headers, to add to.
  /// - Throws: `CotarError` when the request cannot be signed (the message must not contain secrets).
  func sign(method: String, url: String, headers: inout HTTPHeaders) throws
}
