import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport
import Foundation
import Testing

/// HTTPS against a loopback server whose certificate is signed by a private test CA
/// (`Fixtures/tls`, made by `make_tls.sh`).
@Suite(.timeLimit(.minutes(5))) struct TLSTests {
  static let directory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("Fixtures/tls").path
  }()
  static var caFile: String { directory + "/ca.pem" }

  private func withServer(_ body: (RangeServer, TestArchive) async throws -> Void) async throws {
    let archive = try await Fixtures.small.value
    let server = try await RangeServer.start(tls: (Self.directory + "/server.pem", Self.directory + "/server.key"))
    defer { Task { await server.stop() } }
    server.put("a.tar.co", archive.combined)
    try await body(server, archive)
  }

  private func read(_ server: RangeServer, _ archive: TestArchive, settings: HTTPClientSettings, environment: [String: String] = [:])
    async throws -> (CotarError?, HTTPRangeSource)
  {
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: try settings.clientConfiguration(environment: environment))
    defer { Task { try? await client.shutdown() } }
    let source = try HTTPRangeSource(url: server.url("a.tar.co"), client: client, configuration: quickConfiguration())
    let error = await cotarError {
      let cotar = try await Cotar.open(source)
      #expect(try await cotar.read(archive.files[3].path) == archive.files[3].bytes)
    }
    return (error, source)
  }

  @Test func untrustedCertificateFailsAtOnceWithACleanLine() async throws {
    try await withServer { server, archive in
      let (error, source) = try await read(server, archive, settings: HTTPClientSettings())
      #expect(error?.code == .io)
      #expect((error?.cause as? HTTPTransportFailure)?.kind == .tls)
      #expect(source.statistics.requests == 1)
      let text = error?.description ?? ""
      #expect(text.hasPrefix(server.url("a.tar.co") + ": cannot establish a secure connection (TLS certificate not trusted"))
      #expect(!text.contains("\n") && !text.contains("/Sources/"))
    }
  }

  @Test func caFileIsTrusted() async throws {
    try await withServer { server, archive in
      let (error, _) = try await read(server, archive, settings: HTTPClientSettings(trust: .certificates(path: Self.caFile)))
      #expect(error == nil, "\(String(describing: error))")
    }
  }

  @Test func sslCertFileIsHonoured() async throws {
    try await withServer { server, archive in
      let (error, _) = try await read(server, archive, settings: HTTPClientSettings(), environment: ["SSL_CERT_FILE": Self.caFile])
      #expect(error == nil, "\(String(describing: error))")
    }
  }

  @Test func insecureSkipsVerification() async throws {
    try await withServer { server, archive in
      let (error, _) = try await read(server, archive, settings: HTTPClientSettings(trust: .insecure))
      #expect(error == nil, "\(String(describing: error))")
    }
  }

  @Test func unreadableCAFileIsAnArgumentError() {
    let missing = #expect(throws: CotarError.self) {
      _ = try HTTPClientSettings(trust: .certificates(path: "/nonexistent/ca.pem")).clientConfiguration(environment: [:])
    }
    #expect(missing?.code == .invalidArgument)
    let notPEM = #expect(throws: CotarError.self) {
      _ = try HTTPClientSettings(trust: .certificates(path: #filePath)).clientConfiguration(environment: [:])
    }
    #expect(notPEM?.code == .invalidArgument)
  }

  @Test func poolIsSizedFromTheConcurrency() throws {
    let configuration = try HTTPClientSettings(maximumConnectionsPerHost: 64).clientConfiguration(environment: [:])
    #expect(configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit == 64)
    #expect(configuration.connectionPool.retryConnectionEstablishment == false)
  }
}
