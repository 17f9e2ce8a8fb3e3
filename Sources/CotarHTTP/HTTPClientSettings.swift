import AsyncHTTPClient
import CotarCore
import NIOCore
import NIOSSL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How to build the `HTTPClient` that ``HTTPRangeSource``s share: connect timeout, pool size,
/// redirects and TLS trust.
public struct HTTPClientSettings: Sendable {
  /// Which TLS certificates are trusted.
  public enum Trust: Sendable, Hashable {
    /// The system's trust store, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set.
    case system
    /// Only the CA certificates in this PEM file (or directory of hashed certificates).
    case certificates(path: String)
    /// No verification at all (for tests and private deployments; warn the user).
    case insecure
  }

  /// Time allowed to open a connection (TCP and TLS; default 5 s). A refused connection or an
  /// unknown host fails at once, without waiting for it.
  public var connectTimeout: Duration
  /// Connections kept per host; size it to the number of requests run at once (default 8).
  public var maximumConnectionsPerHost: Int
  /// Redirects followed per request (default 5).
  public var maximumRedirects: Int
  /// Which certificates are trusted.
  public var trust: Trust

  /// Creates settings.
  public init(
    connectTimeout: Duration = .seconds(5), maximumConnectionsPerHost: Int = 8, maximumRedirects: Int = 5,
    trust: Trust = .system
  ) {
    self.connectTimeout = connectTimeout
    self.maximumConnectionsPerHost = max(1, maximumConnectionsPerHost)
    self.maximumRedirects = max(0, maximumRedirects)
    self.trust = trust
  }

  /// The trust in effect: `trust`, or for `.system` the `SSL_CERT_FILE` or `SSL_CERT_DIR`
  /// environment variable when one names an existing path (as OpenSSL and curl honour them).
  public func effectiveTrust(environment: [String: String]) -> Trust {
    guard trust == .system else { return trust }
    for name in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
      if let path = environment[name], !path.isEmpty { return .certificates(path: path) }
    }
    return .system
  }

  /// The TLS configuration for `trust` (with the environment applied).
  ///
  /// - Throws: `CotarError` `.invalidArgument` when a CA file cannot be read or holds no
  ///   PEM certificate.
  public func tlsConfiguration(environment: [String: String]) throws -> TLSConfiguration {
    var tls = TLSConfiguration.makeClientConfiguration()
    switch effectiveTrust(environment: environment) {
    case .system: break
    case .insecure: tls.certificateVerification = .none
    case .certificates(let path):
      var isDirectory = false
      guard fileExists(path, isDirectory: &isDirectory) else {
        throw CotarError(.invalidArgument, "CA certificate file or directory does not exist", source: path)
      }
      if !isDirectory {
        do {
          let certificates = try NIOSSLCertificate.fromPEMFile(path)
          guard !certificates.isEmpty else {
            throw CotarError(.invalidArgument, "no PEM certificate in the CA file", source: path)
          }
          tls.trustRoots = .certificates(certificates)
        } catch let error as CotarError {
          throw error
        } catch {
          throw CotarError(.invalidArgument, "cannot read the CA certificates (PEM expected)", source: path)
        }
      } else {
        tls.trustRoots = .file(path)
      }
    }
    return tls
  }

  /// The client configuration: redirects followed (up to ``maximumRedirects``, no cycles),
  /// no decompression, connection attempts not retried (the range source retries what is
  /// transient), a pool of ``maximumConnectionsPerHost``.
  ///
  /// - Throws: as ``tlsConfiguration(environment:)``.
  public func clientConfiguration(environment: [String: String]) throws -> HTTPClient.Configuration {
    var configuration = HTTPClient.Configuration(
      tlsConfiguration: try tlsConfiguration(environment: environment),
      redirectConfiguration: maximumRedirects == 0 ? .disallow : .follow(max: maximumRedirects, allowCycles: false),
      timeout: .init(connect: TimeAmount(connectTimeout), read: .seconds(60)))
    configuration.decompression = .disabled
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maximumConnectionsPerHost
    configuration.connectionPool.retryConnectionEstablishment = false
    return configuration
  }

  /// A new client with these settings; the caller shuts it down.
  ///
  /// - Throws: as ``tlsConfiguration(environment:)``.
  public func makeClient(environment: [String: String] = HTTPClientSettings.tlsEnvironment) throws -> HTTPClient {
    HTTPClient(eventLoopGroupProvider: .singleton, configuration: try clientConfiguration(environment: environment))
  }
}

extension TimeAmount {
  /// `duration` in nanoseconds (saturating).
  init(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    self = .nanoseconds(overflow ? Int64.max : scaled &+ attoseconds / 1_000_000_000)
  }
}

extension HTTPClientSettings {
  /// `SSL_CERT_FILE` and `SSL_CERT_DIR` of this process, where set.
  public static var tlsEnvironment: [String: String] {
    var values: [String: String] = [:]
    for name in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
      if let value = getenv(name) { values[name] = String(cString: value) }
    }
    return values
  }
}

/// Whether `path` exists; sets `isDirectory`.
func fileExists(_ path: String, isDirectory: inout Bool) -> Bool {
  var info = stat()
  guard stat(path, &info) == 0 else { return false }
  isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
  return true
}
