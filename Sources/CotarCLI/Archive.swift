import ArgumentParser
import AsyncHTTPClient
import CotarCore
import CotarHTTP
import NIOCore

#if canImport(Glibc)
  import Glibc
#endif

/// Options naming an archive (a path or an http(s) URL) and its optional sidecar index.
struct ArchiveArguments: ParsableArguments {
  @Argument(help: "A .tar.co, or a .tar with a .tar.index sidecar: a path or an http(s):// URL.", completion: .file())
  var archive: String

  @Option(help: "The sidecar index, path or URL (default: ARCHIVE.index when it exists).", completion: .file())
  var index: String?

  @OptionGroup var remote: RemoteArguments

  /// Resolves the archive, runs `body`, prints `--stats`, and shuts the HTTP client down.
  func withArchive<T>(connections: Int = 8, _ body: (ArchiveLocation) async throws -> T) async throws -> T {
    let needed = isRemoteLocation(archive) || index.map(isRemoteLocation) == true
    return try await remote.withSession(needed: needed, connections: connections) { session in
      try await body(try ArchiveLocation.resolve(archive, index: index, session: session, options: remote.openOptions))
    }
  }
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
      "Largest object accepted whole from a server that ignores range requests (default 4 MiB).", valueName: "bytes"))
  var maxWholeObject: Int = 4 << 20

  @Option(help: "Trust only the CA certificates in this PEM file (default: the system store, or SSL_CERT_FILE / SSL_CERT_DIR).", completion: .file())
  var cacert: String?

  @Flag(help: "Do not verify TLS certificates (prints a warning).")
  var insecure = false

  @Flag(help: "Print requests (or reads) and bytes per source to standard error.")
  var stats = false

  func validate() throws {
    for header in headers where !header.contains(":") { throw ValidationError("--header takes 'Name: value'") }
    guard speculativeBytes >= 8 else { throw ValidationError("--speculative-bytes must be at least 8") }
    guard timeout > 0, attempts >= 1 else { throw ValidationError("--timeout must be > 0 and --attempts ≥ 1") }
    guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be > 0") }
    guard maxWholeObject >= 0 else { throw ValidationError("--max-whole-object must be ≥ 0") }
    guard cacert == nil || !insecure else { throw ValidationError("--cacert and --insecure exclude each other") }
  }

  var configuration: HTTPRangeSourceConfiguration {
    var fields: [String: String] = [:]
    for header in headers {
      guard let colon = header.firstIndex(of: ":") else { continue }
      fields[String(header[..<colon]).trimmed] = String(header[header.index(after: colon)...]).trimmed
    }
    return HTTPRangeSourceConfiguration(
      headers: fields, maximumUnrangedBytes: maxWholeObject, requestTimeout: .milliseconds(Int64(timeout * 1000)),
      retry: RetryPolicy(maximumAttempts: attempts))
  }

  /// Client settings: connect timeout, `connections` per host, TLS trust.
  func clientSettings(connections: Int) -> HTTPClientSettings {
    let trust: HTTPClientSettings.Trust = insecure ? .insecure : cacert.map { .certificates(path: $0) } ?? .system
    return HTTPClientSettings(
      connectTimeout: .milliseconds(Int64(connectTimeout * 1000)), maximumConnectionsPerHost: max(8, connections), trust: trust)
  }

  var openOptions: Cotar.OpenOptions { Cotar.OpenOptions(speculativeBytes: speculativeBytes) }

  /// Runs `body` with a session (an HTTP client with `connections` per host only when
  /// `needed`), then prints the statistics if asked and shuts the client down, on success and
  /// on failure alike.
  func withSession<T>(needed: Bool, connections: Int = 8, _ body: (SourceSession) async throws -> T) async throws -> T {
    if needed, insecure { printError("cotar: warning: --insecure: TLS certificates are not verified") }
    let client = needed ? try clientSettings(connections: connections).makeClient() : nil
    let session = SourceSession(client: client, configuration: configuration)
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
final class SourceSession {
  private let client: HTTPClient?
  private let configuration: HTTPRangeSourceConfiguration
  private var remotes: [HTTPRangeSource] = []
  private var locals: [CountingSource] = []

  init(client: HTTPClient?, configuration: HTTPRangeSourceConfiguration) {
    self.client = client
    self.configuration = configuration
  }

  /// A source for a path or an http(s) URL.
  func source(_ location: String) throws -> any RangeSource {
    if isRemoteLocation(location), let client {
      let source = try HTTPRangeSource(url: location, client: client, configuration: configuration)
      remotes.append(source)
      return source
    }
    let source = CountingSource(try FileSource(path: location))
    locals.append(source)
    return source
  }

  /// `stats:` lines: one per source, then the total.
  func statisticsReport() -> String {
    var lines: [String] = []
    var requests = 0
    var bytes: UInt64 = 0
    for remote in remotes {
      let figures = remote.statistics
      requests += figures.requests
      bytes += figures.bytes
      let hops = figures.redirects > 0 ? ", \(figures.redirects) redirects" : ""
      lines.append(
        "stats: \(remote.identity): \(figures.requests) requests, \(figures.bytes) bytes, \(figures.retries) retries\(hops)")
    }
    for local in locals {
      let figures = local.counts
      requests += figures.reads
      bytes += figures.bytes
      lines.append("stats: \(local.identity): \(figures.reads) reads, \(figures.bytes) bytes")
    }
    lines.append("stats: total: \(requests) \(remotes.isEmpty ? "reads" : "requests"), \(bytes) bytes")
    return lines.joined(separator: "\n")
  }
}

/// Sources of an archive given on the command line.
struct ArchiveLocation {
  /// The tar (or `.tar.co`) source.
  var tar: any RangeSource
  /// The sidecar index source, when the index is separate.
  var sidecar: (any RangeSource)?
  /// Whether ``sidecar`` is only a guess (`URL.index` for a `.tar` URL), to drop if absent.
  var sidecarIsGuess = false
  /// Whether this is a `.tar` URL with a query, for which no sidecar is guessed.
  var needsExplicitIndex = false
  /// Open options (speculative read size).
  var options = Cotar.OpenOptions()

  /// Resolves `archive` and an optional `--index`: a `.tar.co` (index at its end, even when a
  /// `.tar.co.index` copy exists), or a `.tar` with `--index`, defaulting to `ARCHIVE.index`
  /// when that file exists (for a
  /// `.tar` URL, `URL.index` is tried and the archive is read as a `.tar.co` if it is absent).
  static func resolve(_ archive: String, index: String?, session: SourceSession, options: Cotar.OpenOptions = .init()) throws
    -> ArchiveLocation
  {
    let tar = try session.source(archive)
    var location = ArchiveLocation(tar: tar, sidecar: nil, options: options)
    if let index {
      location.sidecar = try session.source(index)
    } else if isRemoteLocation(archive) {
      switch guessSidecar(for: archive) {
      case .url(let guess):
        location.sidecar = try session.source(guess)
        location.sidecarIsGuess = true
      case .needsExplicitIndex: location.needsExplicitIndex = true
      case .none: break
      }
    } else if !archive.lowercased().hasSuffix(".co"), access(archive + ".index", R_OK) == 0 {
      location.sidecar = try session.source(archive + ".index")
    }
    return location
  }

  /// Opens the archive with its index.
  func open() async throws -> Cotar {
    guard let sidecar else {
      do {
        return try await Cotar.open(tar, options: options)
      } catch var error as CotarError where needsExplicitIndex && error.code == .invalidMagic {
        error.message += "; a .tar URL with a query (a presigned URL) gets no guessed URL.index: give the index with --index"
        throw error
      }
    }
    do {
      return try await Cotar.open(tar: tar, index: sidecar, options: options)
    } catch let error as CotarError where sidecarIsGuess && error.meansObjectAbsent {
      return try await Cotar.open(tar, options: options)
    }
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
