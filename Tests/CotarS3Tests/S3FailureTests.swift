import CotarCore
import CotarHTTP
import Testing

@testable import CotarS3

/// The messages of S3 refusals that a local store cannot be made to send (moto covers
/// InvalidToken, InvalidAccessKeyId, SignatureDoesNotMatch and AccessDenied in MotoTests).
@Suite struct S3FailureTests {
  let object = S3ObjectPath(bucket: "tiles", key: "2026/world.tar.co")

  func explain(_ status: Int, _ code: String?, token: String? = nil) -> String {
    let s3 = S3Configuration(
      endpoint: "https://s3.example", region: "eu-west-1", addressing: .path,
      credentials: S3Credentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "s", sessionToken: token, source: "the environment"))
    return S3Failure.explain(
      code: .httpStatus, status: HTTPStatusFailure(status: status, reason: "", serviceCode: code), message: "unexpected answer",
      object: object, s3: s3)
  }

  @Test func eachRefusalHasItsOwnAdvice() {
    let named = "bucket 'tiles', key '2026/world.tar.co'; credentials: access key ASIAEXAMPLE from the environment"
    #expect(explain(400, "ExpiredToken", token: "t").hasPrefix("the session token has expired: the temporary credentials must be renewed"))
    #expect(explain(400, "ExpiredToken", token: "t").hasSuffix(named))
    #expect(explain(403, "RequestTimeTooSkewed").hasPrefix("the system clock is too far from the store's"))
    #expect(explain(400, "InvalidToken").hasPrefix("the store wants a valid session token"))
    #expect(explain(400, "InvalidToken", token: "t").contains("check AWS_SESSION_TOKEN"))
    #expect(explain(403, "AccessDenied").hasPrefix("access denied: the credentials are valid"))
    #expect(explain(403, nil).hasPrefix("access denied: check the credentials"))
    #expect(explain(400, "SomethingElse") == "unexpected answer (bucket 'tiles', key '2026/world.tar.co')")
  }
}
