import CotarCore
import Testing

@testable import CotarHTTP

@Suite struct ParsingTests {
  @Test func contentRangeForms() {
    #expect(ContentRange("bytes 0-99/1000") == .bytes(first: 0, last: 99, complete: 1000))
    #expect(ContentRange("bytes 5-5/*") == .bytes(first: 5, last: 5, complete: nil))
    #expect(ContentRange("bytes */1234") == .unsatisfied(complete: 1234))
    #expect(ContentRange(" bytes 1-2/3 ") == .bytes(first: 1, last: 2, complete: 3))
  }

  @Test func contentRangeRejectsNonsense() {
    #expect(ContentRange("bytes 9-3/100") == nil)
    #expect(ContentRange("bytes 0-100/100") == nil)
    #expect(ContentRange("items 0-1/2") == nil)
    #expect(ContentRange("bytes */*") == nil)
    #expect(ContentRange("bytes x-1/2") == nil)
  }

  @Test func contentRangeBoundsEveryNumber() {
    #expect(ContentRange("bytes 0-18446744073709551615/*") == nil)
    #expect(ContentRange("bytes 0-9223372036854775807/18446744073709551615") == nil)
    #expect(ContentRange("bytes 1-18446744073709551615/*") == nil)
    #expect(ContentRange("bytes 0-9223372036854775808/*") == nil)
    #expect(ContentRange("bytes */18446744073709551615") == nil)
    let widest = ContentRange("bytes 0-9223372036854775806/9223372036854775807")
    #expect(widest?.length == 9_223_372_036_854_775_807)
  }

  @Test func sidecarGuesses() throws {
    let resolver = SourceResolver().adding(schemes: ["https"]) { MemorySource([], identity: $0) }
    func guess(_ url: String) throws -> String? {
      let sources = try ArchiveLocation(url).resolve(using: resolver)
      guard case .guessedSidecar(let sidecar) = sources.index else { return nil }
      return sidecar.identity
    }
    #expect(try guess("https://h/a.tar") == "https://h/a.tar.index")
    #expect(try guess("https://h/a.TAR#x") == "https://h/a.TAR.index")
    #expect(try guess("https://h/a.tar?X-Amz-Signature=abc") == nil)
    #expect(try ArchiveLocation("https://h/a.tar?X-Amz-Signature=abc").resolve(using: resolver).missingIndexAdvice != nil)
    #expect(try guess("https://h/a.tar.co") == nil)
  }

  /// Found by Fuzz/run.sh content_range: the client computes a 206 body length as
  /// `Int(last - first + 1)`, which trapped for ranges longer than `Int.max` bytes.
  @Test func contentRangeRejectsRangesLongerThanIntMax() {
    #expect(ContentRange("bytes 2314850209005373440-16133055087497977888/*") == nil)
    #expect(ContentRange("bytes 0-18446744073709551615/*") == nil)
    #expect(ContentRange("bytes 0-9223372036854775807/18446744073709551615") == nil)
    #expect(
      ContentRange("bytes 1-9223372036854775807/*") == .bytes(first: 1, last: 9_223_372_036_854_775_807, complete: nil))
  }

  @Test func redactionDropsCredentialsAndQuery() {
    #expect(SourceResolver.redacted("https://user:secret@example.org/a.tar.co?sig=abc") == "https://example.org/a.tar.co")
    #expect(SourceResolver.redacted("http://127.0.0.1:80/x.tar") == "http://127.0.0.1:80/x.tar")
    #expect(SourceResolver.redacted("http://h/p@q") == "http://h/p@q")
    #expect(SourceResolver.redacted("HTTP://u@h:8/a?X-Amz-Signature=s#f") == "HTTP://h:8/a")
    #expect(SourceResolver.redacted("s3://bucket/a.tar.co?versionId=v") == "s3://bucket/a.tar.co")
    #expect(SourceResolver.redacted("/tmp/a?b@c.tar") == "/tmp/a?b@c.tar")
  }

  @Test func userInformationBecomesBasicAuthentication() {
    let full = URLUserInfo(url: "https://user:p%40ss%3Aword@example.org:8443/a.tar.co?x=1")
    #expect(full.strippedURL == "https://example.org:8443/a.tar.co?x=1")
    #expect(full.authorization == "Basic dXNlcjpwQHNzOndvcmQ=")  // user:p@ss:word
    #expect(URLUserInfo(url: "http://alone@h/x").authorization == "Basic YWxvbmU6")  // alone: (empty password)
    #expect(URLUserInfo(url: "http://a%zz:b@h/x").authorization == "Basic YSV6ejpi")  // a%zz:b, a bad escape kept
    let none = URLUserInfo(url: "http://h/p@q")
    #expect(none.strippedURL == "http://h/p@q")
    #expect(none.authorization == nil)
    #expect(URLUserInfo(url: "http://h?u=a@b").authorization == nil)
  }

  @Test(arguments: [
    ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
    ("foobar", "Zm9vYmFy"),
  ])
  func base64MatchesRFC4648(plain: String, encoded: String) {
    #expect(URLUserInfo.base64(Array(plain.utf8)) == encoded)
  }

  @Test func remoteLocations() {
    #expect(isRemoteLocation("HTTPS://x/y"))
    #expect(isRemoteLocation("http://x"))
    #expect(!isRemoteLocation("/tmp/http.tar"))
    #expect(!isRemoteLocation("ftp://x"))
  }

  @Test func backoffIsBounded() {
    let policy = RetryPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(300))
    for attempt in 1...10 {
      #expect(policy.delay(afterAttempt: attempt, retryAfter: nil) <= .milliseconds(300))
    }
    #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(5)) == .milliseconds(300))
  }
}
