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

  /// Found by Fuzz/run.sh content_range: the client computes a 206 body length as
  /// `Int(last - first + 1)`, which trapped for ranges longer than `Int.max` bytes.
  @Test func contentRangeRejectsRangesLongerThanIntMax() {
    #expect(ContentRange("bytes 2314850209005373440-16133055087497977888/*") == nil)
    #expect(ContentRange("bytes 0-18446744073709551615/*") == nil)
    #expect(ContentRange("bytes 0-9223372036854775807/18446744073709551615") == nil)
    #expect(
      ContentRange("bytes 1-9223372036854775807/*") == .bytes(first: 1, last: 9_223_372_036_854_775_807, complete: nil))
    #expect(ContentRange("bytes 18446744073709551614-18446744073709551614/18446744073709551615") != nil)
  }

  @Test func redactionDropsCredentialsAndQuery() {
    #expect(redactedURL("https://user:secret@example.org/a.tar.co?sig=abc") == "https://example.org/a.tar.co")
    #expect(redactedURL("http://127.0.0.1:80/x.tar") == "http://127.0.0.1:80/x.tar")
    #expect(redactedURL("http://h/p@q") == "http://h/p@q")
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
