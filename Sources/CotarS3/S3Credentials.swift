import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// An access key pair (and session token) and where it came from.
///
/// Its description shows the key id and source only, never the secret or the token.
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible {
  /// The access key id, such as `AKIAIOSFODNN7EXAMPLE`.
  public var accessKeyID: String
  /// The secret access key (never printed).
  public var secretAccessKey: String
  /// The session token of temporary credentials (never printed).
  public var sessionToken: String?
  /// Where the credentials came from, for messages: `environment (AWS_ACCESS_KEY_ID)` or
  /// `profile 'dev' in /home/me/.aws/credentials`.
  public var source: String

  /// Creates credentials.
  public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String) {
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
    self.source = source
  }

  /// `access key AKIA… from <source>`, without secrets.
  public var description: String { "access key \(accessKeyID) from \(source)" }
}

/// One `[section]` of an AWS INI file (`~/.aws/credentials` or `~/.aws/config`).
struct AWSConfigFile: Sendable {
  /// Section name to key-value pairs, keys lower-cased.
  var sections: [String: [String: String]] = [:]

  /// Parses INI text: `[name]` headers, `key = value` lines, `#` and `;` comments.
  init(text: String) {
    var current: String?
    for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      let line = String(rawLine).trimmingCharacters()
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line.hasPrefix("["), line.hasSuffix("]") {
        let name = String(line.dropFirst().dropLast()).trimmingCharacters()
        current = name
        if sections[name] == nil { sections[name] = [:] }
        continue
      }
      guard let current, let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals]).trimmingCharacters().lowercased()
      let value = String(line[line.index(after: equals)...]).trimmingCharacters()
      if !key.isEmpty { sections[current, default: [:]][key] = value }
    }
  }

  /// Reads and parses `path`, or `nil` when it cannot be read.
  static func load(_ path: String) -> AWSConfigFile? {
    guard Syscall.isReadable(path), let descriptor = try? Syscall.open(path, O_RDONLY) else { return nil }
    defer { Syscall.close(descriptor) }
    guard let bytes = try? Syscall.readToEnd(descriptor, limit: 1 << 20) else { return nil }
    return AWSConfigFile(text: String(decoding: bytes, as: UTF8.self))
  }
}
