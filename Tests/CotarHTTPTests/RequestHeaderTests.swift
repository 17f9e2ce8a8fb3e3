import AsyncHTTPClient
import CotarCore
import CotarTestSupport
import NIOHTTP1
import Testing

@testable import CotarHTTP

/// Request headers given by the user: checked before any request, never retried when the
/// HTTP client refuses them, and never counted as requests.
@Suite(.timeLimit(.minutes(5))) struct RequestHeaderTests {
  @Test func fieldNamesAndValuesFollowRFC9110() {
    #expect(HTTPHeaderField.isValidName("X-Request-Id"))
    #expect(HTTPHeaderField.isValidName("!#$%&'*+-.^_`|~09azAZ"))
    #expect(!HTTPHeaderField.isValidName(""))
    #expect(!HTTPHeaderField.isValidName("Bad Name"))
    #expect(!HTTPHeaderField.isValidName("X:Y"))
    #expect(!HTTPHeaderField.isValidName("Ünïcode"))
    #expect(HTTPHeaderField.isValidValue("Bearer abc/def=="))
    #expect(HTTPHeaderField.isValidValue("a\tb c é"))  // HTAB, SP and obs-text
    #expect(HTTPHeaderField.isValidValue(""))
    for bad in ["a\rb", "a\nb", "a\u{0}b", "a\u{7F}b", "a\u{1B}b"] { #expect(!HTTPHeaderField.isValidValue(bad)) }
  }

  @Test func problemsNameTheHeaderNeverTheValue() throws {
    let value = try #require(HTTPHeaderField.problem(name: "X-Token", value: "secret\r\nX-Evil: 1"))
    #expect(value.contains("X-Token") && !value.contains("secret"))
    #expect(HTTPHeaderField.problem(name: "Bad Name", value: "v")?.contains("\"Bad Name\"") == true)
    for managed in ["Range", "if-match", "If-None-Match", "If-Range", "Host", "Accept-Encoding", "Transfer-Encoding"] {
      #expect(HTTPHeaderField.problem(name: managed, value: "x")?.contains("set by Cotar") == true, "\(managed)")
    }
    #expect(HTTPHeaderField.problem(name: "Authorization", value: "Bearer x") == nil)
    #expect(HTTPHeaderField.problem(name: "Authorization", value: "Bearer x", signed: true)?.contains("signature") == true)
    #expect(HTTPHeaderField.problem(name: "X-Amz-Date", value: "x", signed: true) != nil)
  }

  @Test func aSourceWithAnUnsendableHeaderIsRefusedBeforeAnyRequest() async throws {
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", try await Fixtures.small.value.combined)
    for (name, value) in [("Bad Name", "v"), ("X-A", "a\rb"), ("If-Match", "\"x\"")] {
      var configuration = quickConfiguration()
      configuration.headers[name] = value
      let error = await cotarError { _ = try HTTPRangeSource(url: server.url("a.tar.co"), configuration: configuration) }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message.contains(name) == true, "\(String(describing: error))")
      #expect(error?.source == server.url("a.tar.co"))
    }
    #expect(server.requestCount == 0)
  }

  /// Adds a header the HTTP client refuses, as a broken signer could.
  struct UnsendableSigner: HTTPRequestSigner {
    func sign(method: String, url: String, headers: inout HTTPHeaders) throws { headers.add(name: "X-Signed", value: "a\r\nb") }
  }

  @Test func aRequestTheClientRefusesIsNotRetriedNorCounted() async throws {
    let server = try await RangeServer.start()
    defer { Task { await server.stop() } }
    server.put("a.tar.co", try await Fixtures.small.value.combined)
    let source = try HTTPRangeSource(url: server.url("a.tar.co"), configuration: quickConfiguration(attempts: 4), signer: UnsendableSigner())
    let error = await cotarError { _ = try await Cotar.open(source) }
    #expect(error?.code == .invalidArgument, "\(String(describing: error))")
    #expect((error?.cause as? HTTPTransportFailure)?.kind == .invalidRequest)
    #expect(error?.message.contains("tries") == false, "\(String(describing: error))")
    #expect(source.statistics.requests == 0)
    #expect(source.statistics.retries == 0)
    #expect(server.requestCount == 0)
  }

  @Test func refusedHeadersClassifyAsFinal() {
    for error in [HTTPClientError.invalidHeaderFieldNames(["Bad Name"]), HTTPClientError.invalidHeaderFieldValues(["a\rb"])] {
      let failure = HTTPTransportFailure.classify(error)
      #expect(failure.kind == .invalidRequest)
      #expect(!failure.isTransient)
    }
  }
}
