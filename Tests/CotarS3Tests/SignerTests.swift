import CotarCore
import NIOHTTP1
import Testing

@testable import CotarS3

/// AWS Signature Version 4 against the examples AWS publishes in "Signature Calculations for
/// the Authorization Header" (Amazon S3 API reference), key AKIAIOSFODNN7EXAMPLE.
@Suite struct SignerTests {
  let credentials = S3Credentials(
    accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", source: "test")
  let date = AmzDate(timestamp: "20130524T000000Z")

  @Test func getObjectExampleCanonicalRequestStringToSignAndSignature() {
    let signer = S3Signer(credentials: credentials, region: "us-east-1", now: { AmzDate(timestamp: "20130524T000000Z") })
    let headers = [
      ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
      ("x-amz-content-sha256", S3Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
    ]
    let canonical = S3Signer.canonicalRequest(
      method: "GET", path: "/test.txt", query: "", headers: headers, payloadHash: S3Signer.emptyPayloadHash)
    #expect(
      canonical.text == """
        GET
        /test.txt

        host:examplebucket.s3.amazonaws.com
        range:bytes=0-9
        x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        x-amz-date:20130524T000000Z

        host;range;x-amz-content-sha256;x-amz-date
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        """)
    let stringToSign = signer.stringToSign(canonicalRequest: canonical.text, date: date)
    #expect(
      stringToSign == """
        AWS4-HMAC-SHA256
        20130524T000000Z
        20130524/us-east-1/s3/aws4_request
        7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
        """)
    #expect(
      signer.signature(stringToSign: stringToSign, date: date)
        == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
  }

  @Test func signingARequestAddsTheHeadersOfTheExample() throws {
    let signer = S3Signer(credentials: credentials, region: "us-east-1", now: { AmzDate(timestamp: "20130524T000000Z") })
    var headers = HTTPHeaders([("Range", "bytes=0-9"), ("Accept-Encoding", "identity")])
    try signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt", headers: &headers)
    #expect(
      headers.first(name: "Authorization")
        == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    #expect(headers.first(name: "x-amz-date") == "20130524T000000Z")
  }

  @Test func putObjectExampleSignature() {
    let signer = S3Signer(credentials: credentials, region: "us-east-1")
    let payload = S3Signer.payloadHash(Array("Welcome to Amazon S3.".utf8))
    #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
    let authorization = signer.authorizationHeader(
      method: "PUT", path: "/test%24file.text", query: "",
      headers: [
        ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", payload),
      ], payloadHash: payload, date: date)
    #expect(authorization.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
  }

  @Test func canonicalQueryIsSortedAndEncodedOnce() {
    #expect(S3Signer.canonicalQuery("uploads=") == "uploads=")
    #expect(S3Signer.canonicalQuery("uploadId=a%2Fb&partNumber=2") == "partNumber=2&uploadId=a%2Fb")
    #expect(S3Signer.canonicalQuery("") == "")
  }

  @Test func keysAreEncodedLikeS3() throws {
    let s3 = S3Configuration(endpoint: "http://127.0.0.1:9000/", credentials: nil)
    let object = try S3ObjectPath(parsing: "s3://bucket/a dir/ü+x~.tar")
    #expect(s3.url(for: object) == "http://127.0.0.1:9000/bucket/a%20dir/%C3%BC%2Bx~.tar")
  }

  @Test func addressingStyles() throws {
    let object = S3ObjectPath(bucket: "data", key: "x.tar")
    let aws = S3Configuration(region: "eu-west-1", credentials: nil)
    #expect(aws.url(for: object) == "https://data.s3.eu-west-1.amazonaws.com/x.tar")
    var path = aws
    path.addressing = .path
    #expect(path.url(for: object) == "https://s3.eu-west-1.amazonaws.com/data/x.tar")
    let custom = S3Configuration(endpoint: "http://127.0.0.1:9000", credentials: nil)
    #expect(custom.url(for: object) == "http://127.0.0.1:9000/data/x.tar")
    var virtual = custom
    virtual.addressing = .virtual
    #expect(virtual.url(for: object) == "http://data.127.0.0.1:9000/x.tar")
    #expect(aws.url(for: S3ObjectPath(bucket: "my.bucket", key: "k")) == "https://s3.eu-west-1.amazonaws.com/my.bucket/k")
  }

  @Test func locationsWithoutBucketOrKeyAreRejected() {
    for bad in ["s3://", "s3://bucket", "s3://bucket/", "s3:///key", "http://bucket/key"] {
      #expect(throws: CotarError.self) { try S3ObjectPath(parsing: bad) }
      do { _ = try S3ObjectPath(parsing: bad) } catch let error as CotarError { #expect(error.code == .invalidArgument) } catch {
        Issue.record("unexpected \(error)")
      }
    }
  }
}
