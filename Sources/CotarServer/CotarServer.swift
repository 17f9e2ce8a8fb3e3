import CotarCore
import Hummingbird
import Logging
import HummingbirdCore
import NIOCore
import ServiceLifecycle
import UnixSignals

/// An HTTP server for the entries of Cotar archives (`cotar serve`).
///
/// Routes (compatible with linz/cotar's `serve`): `GET|HEAD /v1/file/<path>`,
/// `GET /v1/list[/<dir>]`, the same under `/v1/<archive-name>/…` for every archive,
/// `GET|HEAD /archive/<name>` for the raw archive bytes (so a remote Cotar reader can use the
/// server as its range source), and `GET /health`. See ``CotarResponder`` for the HTTP
/// behaviour.
public struct CotarServer: Sendable {
  /// The responder that answers every request.
  public let responder: CotarResponder
  private let connections = ConnectionCounter()

  /// The connections open now (for tests and monitoring).
  public var openConnections: Int { connections.value }

  /// Creates a server for archives already opened.
  ///
  /// - Throws: `CotarError` `.invalidArgument` as ``CotarResponder/init(archives:configuration:logger:)``.
  public init(archives: [ServedArchive], configuration: CotarServerConfiguration, logger: Logger) throws {
    responder = try CotarResponder(archives: archives, configuration: configuration, logger: logger)
  }

  /// The Hummingbird application, bound to the configured host and port.
  ///
  /// - Parameter onServerRunning: called with the listening channel once the server runs
  ///   (its local address tells the port when the configured port is 0).
  public func makeApplication(
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
  ) -> Application<CotarResponder> {
    let configuration = responder.configuration
    let limits = configuration.limits
    let counter = connections
    let responder = self.responder
    return Application(
      responder: responder,
      server: HTTPServerBuilder { respond in
        GuardedHTTP1Channel(
          responder: respond, limits: limits, counter: counter, windowBytes: max(256 << 10, 4 * configuration.chunkSize),
          fastResponder: responder, serverName: "cotar")
      },
      configuration: ApplicationConfiguration(
        address: .hostname(configuration.host, port: configuration.port), serverName: "cotar",
        backlog: 1024),
      onServerRunning: onServerRunning,
      logger: responder.logger)
  }

  /// Runs until SIGINT or SIGTERM, then stops accepting connections, closes idle ones and
  /// lets the responses in flight finish for at most the configured grace period
  /// (``CotarServerConfiguration/ConnectionLimits/shutdownGracePeriod``); connections still
  /// open after it are closed.
  ///
  /// - Throws: when the address cannot be bound, or from the server.
  public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
    var configuration = ServiceGroupConfiguration(
      services: [makeApplication(onServerRunning: onServerRunning)], gracefulShutdownSignals: [.sigterm, .sigint],
      logger: responder.logger)
    configuration.maximumGracefulShutdownDuration = responder.configuration.limits.shutdownGracePeriod
    configuration.maximumCancellationDuration = .seconds(2)
    defer { responder.flushAccessLog() }
    try await ServiceGroup(configuration: configuration).run()
  }
}
