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
  func withArchive<T>(_ body: (ArchiveLocation) async throws -> T) async throws -> T {
    try await remote.withSession(needed: isRemoteLocation(archive) || index.map(isRemoteLocation) == true) { session in
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

  @Option(help: "Seconds allowed for one HTTP request.")
  var timeout: Double = 30

  @Option(help: "Tries per HTTP request (retries on connection errors, 429 and 5xx).")
  var attempts: Int = 4

  @Flag(help: "Print requests (or reads) and bytes per source to standard error.")
  var stats = false

  func validate() throws {
    for header in headers where !header.contains(":") { throw ValidationError("--header takes 'Name: value'") }
    guard (8...(1 << 30)).contains(speculativeBytes) else {
      throw ValidationError("--speculative-bytes must be from 8 to 1073741824 (1 GiB), got \(speculativeBytes)")
    }
    guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
      throw ValidationError("--timeout must be more than 0 and at most 86400 seconds, got \(timeout)")
    }
    guard (1...100).contains(attempts) else { throw ValidationError("--attempts must be from 1 to 100, got \(attempts)") }
  }

  var configuration: HTTPRangeSourceConfiguration {
    var fields: [String: String] = [:]
    for header in headers {
      guard let colon = header.firstIndex(of: ":") else { continue }
      fields[String(header[..<colon]).trimmed] = String(header[header.index(after: colon)...]).trimmed
    }
    return HTTPRangeSourceConfiguration(
      headers: fields, requestTimeout: .milliseconds(Int64(timeout * 1000)), retry: RetryPolicy(maximumAttempts: attempts))
  }

  var openOptions: Cotar.OpenOptions { Cotar.OpenOptions(speculativeBytes: speculativeBytes) }

  /// Runs `body` with a session (an HTTP client only when `needed`), then prints the
  /// statistics if asked and shuts the client down, on success and on failure alike.
  func withSession<T>(needed: Bool, _ body: (SourceSession) async throws -> T) async throws -> T {
    let client = needed ? HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.clientConfiguration) : nil
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

  private static var clientConfiguration: HTTPClient.Configuration {
    var configuration = HTTPClient.Configuration(
      redirectConfiguration: .follow(max: 5, allowCycles: false), timeout: .init(connect: .seconds(10), read: .seconds(30)))
    configuration.decompression = .disabled
    return configuration
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
      lines.append("stats: \(remote.identity): \(figures.requests) requests, \(figures.bytes) bytes, \(figures.retries) retries")
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
      let (base, query) = splitQuery(archive)
      if base.lowercased().hasSuffix(".tar") {
        location.sidecar = try session.source(base + ".index" + query)
        location.sidecarIsGuess = true
      }
    } else if !archive.lowercased().hasSuffix(".co"), access(archive + ".index", R_OK) == 0 {
      location.sidecar = try session.source(archive + ".index")
    }
    return location
  }

  /// Opens the archive with its index.
  func open() async throws -> Cotar {
    guard let sidecar else { return try await Cotar.open(tar, options: options) }
    do {
      return try await Cotar.open(tar: tar, index: sidecar, options: options)
    } catch let error as CotarError where sidecarIsGuess && error.code == .httpStatus {
      return try await Cotar.open(tar, options: options)
    }
  }
}

/// `url` split before its query (`?…`), so `.index` can be appended to the path.
func splitQuery(_ url: String) -> (base: String, query: String) {
  guard let mark = url.firstIndex(of: "?") else { return (url, "") }
  return (String(url[..<mark]), String(url[mark...]))
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
