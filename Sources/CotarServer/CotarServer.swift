import CotarCore
import Hummingbird
import Logging
import NIOCore

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
    return Application(
      responder: responder,
      configuration: ApplicationConfiguration(
        address: .hostname(configuration.host, port: configuration.port), serverName: "cotar"),
      onServerRunning: onServerRunning,
      logger: responder.logger)
  }

  /// Runs until SIGINT or SIGTERM, then stops accepting connections and lets the requests in
  /// flight finish (graceful shutdown).
  ///
  /// - Throws: when the address cannot be bound, or from the server.
  public func run(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) async throws {
    try await makeApplication(onServerRunning: onServerRunning).runService()
  }
}
