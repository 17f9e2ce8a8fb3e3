import ArgumentParser
import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarS3
import NIOCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Options naming an archive (a path or an http(s) URL) and its optional sidecar index.
struct ArchiveArguments: ParsableArguments {
  @Argument(help: "A .tar.co, or a .tar with a .tar.index sidecar: a path, an http(s):// URL or s3://bucket/key.", completion: .file())
  var archive: String

  @Option(help: "The sidecar index, path or URL (default: ARCHIVE.index when it exists).", completion: .file())
  var index: String?

  @OptionGroup var remote: RemoteArguments

  /// The archive as the library names it.
  var location: ArchiveLocation { ArchiveLocation(archive, index: index) }

  /// The archive as messages name it: a URL without user information and query string
  /// (``SourceResolver/redacted(_:)``), a path as given.
  var shown: String { SourceResolver.redacted(archive) }

  /// The archive in a command a message suggests: as given when nothing was redacted, else
  /// `ARCHIVE` (a redacted URL would not work, and its secrets are not printed).
  var shownAgain: String { shown == archive ? archive : "ARCHIVE" }

  /// Resolves the archive, runs `body`, prints `--stats`, and shuts the HTTP client down.
  func withArchive<T>(connections: Int = 8, _ body: (OpenedLocation) async throws -> T) async throws -> T {
    try await remote.withSession(needed: location.isRemote, connections: connections) { session in
      try await body(
        OpenedLocation(sources: try location.resolve(using: session.resolver), options: remote.openOptions, resolver: session.resolver))
    }
  }
}

/// An archive's resolved sources with the command's open options.
struct OpenedLocation {
  /// The resolved sources.
  var sources: ArchiveLocation.Sources
  /// Open options (speculative read size).
  var options: Cotar.OpenOptions
  /// How further locations of this archive (an `X.tar.names` sidecar) become sources.
  var resolver = SourceResolver()

  /// The tar (or `.tar.co`) source.
  var tar: any RangeSource { sources.tar }

  /// Opens the archive with its index.
  func open() async throws -> Cotar { try await sources.open(options: options) }
}

/// Options for remote archives and I/O statistics, shared by every read command.
struct RemoteArguments: ParsableArguments {
  @Option(
    name: .customLong("header"),
    help: ArgumentHelp("An HTTP request header 'Name: value' (repeatable), e.g. Authorization.", valueName: "header"))
  var headers: [String] = []

  @Option(help: "Bytes read speculatively at open (suffix of a .tar.co, prefix of an index).")
  var speculativeBytes: Int = 64 << 10

  @Option(help: "Seconds allowed for one HTTP request, response head and body together.")
  var timeout: Double = 30

  @Option(help: "Seconds allowed to open a connection (a refused connection fails at once).")
  var connectTimeout: Double = 5

  @Option(help: "Tries per HTTP request (retries on timeouts, lost connections, 408, 429 and 5xx).")
  var attempts: Int = 4

  @Option(
    help: ArgumentHelp(
      "Largest object accepted whole from a server that ignores range requests (bytes or a size such as 16MiB).", valueName: "size"))
  var maxWholeObject = ByteCount(4 << 20)

  @Option(help: "Trust only the CA certificates in this PEM file (default: the system store, or SSL_CERT_FILE / SSL_CERT_DIR).", completion: .file())
  var cacert: String?

  @Flag(help: "Do not verify TLS certificates (prints a warning).")
  var insecure = false

  @Flag(help: "Print requests (or reads) and bytes per source to standard error.")
  var stats = false

  @Option(help: "The S3-compatible endpoint for s3:// locations (default: AWS_ENDPOINT_URL, else AWS by region).")
  var endpointURL: String?

  @Option(help: "How s3:// buckets are addressed: path, virtual or auto (virtual on AWS, path on custom endpoints).")
  var s3Addressing: S3Addressing = .auto

  @Flag(help: "Send unsigned requests for s3:// locations (public buckets); no credentials are looked up.")
  var noSignRequest = false

  func validate() throws {
    for header in headers {
      guard let (name, value) = Self.split(header: header) else { throw ValidationError("--header takes 'Name: value'") }
      if let problem = HTTPHeaderField.problem(name: name, value: value) { throw ValidationError("--header: \(problem)") }
    }
    guard (8...(1 << 30)).contains(speculativeBytes) else {
      throw ValidationError("--speculative-bytes must be from 8 to 1073741824 (1 GiB), got \(speculativeBytes)")
    }
    guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
      throw ValidationError("--timeout must be more than 0 and at most 86400 seconds, got \(timeout)")
    }
    guard (1...100).contains(attempts) else { throw ValidationError("--attempts must be from 1 to 100, got \(attempts)") }
    guard connectTimeout.isFinite, connectTimeout > 0, connectTimeout <= 86_400 else {
      throw ValidationError("--connect-timeout must be more than 0 and at most 86400 seconds, got \(connectTimeout)")
    }
    guard maxWholeObject.bytes <= 1 << 40 else { throw ValidationError("--max-whole-object must be at most 1TiB") }
    guard cacert == nil || !insecure else { throw ValidationError("--cacert and --insecure exclude each other") }
  }

  var configuration: HTTPRangeSourceConfiguration {
    var fields: [String: String] = [:]
    for header in headers {
      guard let (name, value) = Self.split(header: header) else { continue }
      fields[name] = value
    }
    return HTTPRangeSourceConfiguration(
      headers: fields, maximumUnrangedBytes: Int(maxWholeObject.bytes), requestTimeout: .milliseconds(Int64(timeout * 1000)),
      retry: RetryPolicy(maximumAttempts: attempts))
  }

  /// The name and value of a `--header 'Name: value'`, each without surrounding spaces, or
  /// `nil` without a colon.
  static func split(header: String) -> (name: String, value: String)? {
    guard let colon = header.firstIndex(of: ":") else { return nil }
    return (String(header[..<colon]).trimmed, String(header[header.index(after: colon)...]).trimmed)
  }

  /// Client settings: connect timeout, `connections` per host, TLS trust.
  func clientSettings(connections: Int) -> HTTPClientSettings {
    let trust: HTTPClientSettings.Trust = insecure ? .insecure : cacert.map { .certificates(path: $0) } ?? .system
    return HTTPClientSettings(
      connectTimeout: .milliseconds(Int64(connectTimeout * 1000)), maximumConnectionsPerHost: max(8, connections), trust: trust)
  }

  var openOptions: Cotar.OpenOptions { cliOpenOptions(speculativeBytes: speculativeBytes) }

  /// Runs `body` with a session (an HTTP client with `connections` per host only when
  /// `needed`), then prints the statistics if asked and shuts the client down, on success and
  /// on failure alike.
  func withSession<T>(needed: Bool, connections: Int = 8, _ body: (SourceSession) async throws -> T) async throws -> T {
    if needed, insecure { printError("cotar: warning: --insecure: TLS certificates are not verified") }
    let client = needed ? try clientSettings(connections: connections).makeClient() : nil
    let s3 = Result { try S3Configuration.resolve(endpointURL: endpointURL, addressing: s3Addressing, signRequests: !noSignRequest) }
    let session = SourceSession(client: client, configuration: configuration, s3: s3)
    let result: Result<T, any Error>
    do {
      result = .success(try await body(session))
    } catch {
      result = .failure(error)
    }
    if stats { printError(session.statisticsReport()) }
    try? await client?.shutdown()
    return try result.get()
  }
}

/// Opens sources for paths and URLs, and remembers them for `--stats`.
final class SourceSession: Sendable {
  /// A remote source's name and statistics.
  struct Remote: Sendable {
    var identity: String
    var statistics: @Sendable () -> HTTPSourceStatistics
  }

  private struct Opened {
    var remotes: [Remote] = []
    var locals: [CountingSource] = []
    var uploaders: [(destination: String, uploader: S3Uploader)] = []
  }

  /// The sources opened so far, shared with the resolver's factories.
  private final class Log: Sendable {
    let opened = Mutex(Opened())
  }

  /// Resolves locations to sources, recording each one.
  let resolver: SourceResolver
  private let log: Log

  /// The S3 settings (or why they could not be resolved), for `s3://` locations and uploads.
  let s3: Result<S3Configuration, any Error>
  /// The HTTP client, when the session has one.
  let client: HTTPClient?

  init(
    client: HTTPClient?, configuration: HTTPRangeSourceConfiguration,
    s3: Result<S3Configuration, any Error> = .failure(CotarError(.invalidArgument, "no S3 settings", source: "s3"))
  ) {
    let log = Log()
    var resolver = SourceResolver { path in
      let source = CountingSource(try FileSource(path: path))
      log.opened.withLock { $0.locals.append(source) }
      return source
    }
    if let client {
      resolver = resolver.addingHTTP(client: client, configuration: configuration) { source in
        log.opened.withLock { $0.remotes.append(Remote(identity: source.identity, statistics: { source.statistics })) }
      }
      resolver = resolver.adding(schemes: ["s3"]) { location in
        let source = try S3RangeSource(
          object: try S3ObjectPath(parsing: location), client: client, s3: try s3.get(), configuration: configuration)
        log.opened.withLock { $0.remotes.append(Remote(identity: source.identity, statistics: { source.statistics })) }
        return source
      }
    }
    self.resolver = resolver
    self.s3 = s3
    self.client = client
    self.log = log
  }

  /// An uploader for `destination` (an `s3://` location), counted in `--stats`.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when the session has no HTTP client or the S3
  ///   settings could not be resolved.
  func uploader(for destination: String) throws -> S3Uploader {
    guard let client else { throw CotarError(.invalidArgument, "no HTTP client for an upload", source: destination) }
    let uploader = S3Uploader(client: client, s3: try s3.get())
    log.opened.withLock { $0.uploaders.append((destination, uploader)) }
    return uploader
  }

  /// A source for a path or an http(s) URL.
  func source(_ location: String) throws -> any RangeSource {
    try resolver.source(for: location)
  }

  /// `stats:` lines: one per source, then the total.
  func statisticsReport() -> String {
    let (remotes, locals, uploaders) = log.opened.withLock { ($0.remotes, $0.locals, $0.uploaders) }
    var lines: [String] = []
    var requests = 0
    var bytes: UInt64 = 0
    for remote in remotes {
      let figures = remote.statistics()
      requests += figures.requests
      bytes += figures.bytes
      let hops = figures.redirects > 0 ? ", \(counted(figures.redirects, "redirect"))" : ""
      lines.append(
        "stats: \(remote.identity): \(counted(figures.requests, "request")), \(counted(Int(clamping: figures.bytes), "byte")), \(counted(figures.retries, "retry", "retries"))\(hops)")
    }
    for local in locals {
      let figures = local.counts
      requests += figures.reads
      bytes += figures.bytes
      lines.append("stats: \(local.identity): \(counted(figures.reads, "read")), \(counted(Int(clamping: figures.bytes), "byte"))")
    }
    for (destination, uploader) in uploaders {
      let figures = uploader.statistics
      requests += figures.requests
      lines.append("stats: \(destination) (upload): \(counted(figures.requests, "request")), \(counted(Int(clamping: figures.bytesSent), "byte")) sent")
    }
    let unit = remotes.isEmpty && uploaders.isEmpty ? "read" : "request"
    lines.append("stats: total: \(counted(requests, unit)), \(counted(Int(clamping: bytes), "byte"))")
    return lines.joined(separator: "\n")
  }
}

extension String {
  /// Without leading and trailing spaces.
  var trimmed: String {
    var text = Substring(self)
    while text.first == " " { text = text.dropFirst() }
    while text.last == " " { text = text.dropLast() }
    return String(text)
  }
}

extension S3Addressing: ExpressibleByArgument {}

/// Open options for a CLI command: `speculativeBytes`, and the local index mapped into memory
/// unless the environment sets `COTAR_NO_MMAP` to anything but empty or `0` (then windows are
/// read with `pread`; for files another process may truncate in place).
func cliOpenOptions(speculativeBytes: Int) -> Cotar.OpenOptions {
  let noMap = getenv("COTAR_NO_MMAP").map { String(cString: $0) } ?? ""
  return Cotar.OpenOptions(speculativeBytes: speculativeBytes, mapLocalIndex: noMap.isEmpty || noMap == "0")
}
