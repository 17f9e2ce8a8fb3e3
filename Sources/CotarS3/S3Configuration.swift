import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// How bucket names go into request URLs.
public enum S3Addressing: String, Sendable, Hashable, CaseIterable {
  /// `ENDPOINT/bucket/key`: works with every S3-compatible store.
  case path
  /// `bucket.ENDPOINT-HOST/key`: AWS's default; needs DNS for every bucket.
  case virtual
  /// Virtual-hosted on AWS endpoints for DNS-compatible bucket names, path style for custom
  /// endpoints (`--endpoint-url`), which often have no wildcard DNS.
  case auto
}

/// Where and how S3 requests are sent: endpoint, region, addressing and credentials,
/// resolved as the AWS CLI resolves them.
public struct S3Configuration: Sendable {
  /// The endpoint URL without a trailing slash, such as `https://s3.us-east-1.amazonaws.com`
  /// or `http://127.0.0.1:9000`.
  public var endpoint: String
  /// Whether ``endpoint`` was chosen by the user (`--endpoint-url`, `AWS_ENDPOINT_URL*`, or
  /// `endpoint_url` in the profile) rather than derived from the region.
  public var isCustomEndpoint: Bool
  /// The region signatures are scoped to.
  public var region: String
  /// How bucket names go into URLs.
  public var addressing: S3Addressing
  /// The credentials, or `nil` to send unsigned requests (`--no-sign-request`).
  public var credentials: S3Credentials?
  /// Why there are no credentials, when there are none (for messages).
  public var credentialsAbsence: String

  /// Creates a configuration from explicit values.
  public init(
    endpoint: String? = nil, region: String = "us-east-1", addressing: S3Addressing = .auto, credentials: S3Credentials?
  ) {
    self.region = region
    self.isCustomEndpoint = endpoint != nil
    self.endpoint = Self.trimSlash(endpoint ?? "https://s3.\(region).amazonaws.com")
    self.addressing = addressing
    self.credentials = credentials
    self.credentialsAbsence = credentials == nil ? "unsigned requests" : ""
  }

  /// Resolves a configuration as AWS tools do.
  ///
  /// - Credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
  ///   else the profile `AWS_PROFILE` (or `default`) in `AWS_SHARED_CREDENTIALS_FILE`
  ///   (`~/.aws/credentials`), then in `AWS_CONFIG_FILE` (`~/.aws/config`).
  /// - Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`.
  /// - Endpoint: `endpointURL`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's
  ///   `endpoint_url`, else AWS's regional endpoint.
  ///
  /// - Parameters:
  ///   - environment: the process environment (default: the real one).
  ///   - endpointURL: `--endpoint-url`, which wins over everything.
  ///   - addressing: `--s3-addressing`.
  ///   - signRequests: `false` for `--no-sign-request` (credentials are not looked up).
  /// - Throws: `CotarError` `.invalidArgument` when a profile was named but does not exist,
  ///   or an endpoint is not an http(s) URL or carries user information (``checkEndpoint(_:)``).
  public static func resolve(
    environment: [String: String] = ProcessEnvironment.current(), endpointURL: String? = nil,
    addressing: S3Addressing = .auto, signRequests: Bool = true
  ) throws -> S3Configuration {
    func value(_ name: String) -> String? {
      guard let text = environment[name]?.trimmingCharacters(), !text.isEmpty else { return nil }
      return text
    }
    let home = value("HOME") ?? "~"
    let credentialsPath = value("AWS_SHARED_CREDENTIALS_FILE") ?? home + "/.aws/credentials"
    let configPath = value("AWS_CONFIG_FILE") ?? home + "/.aws/config"
    let profileName = value("AWS_PROFILE") ?? value("AWS_DEFAULT_PROFILE") ?? "default"
    let credentialsFile = AWSConfigFile.load(credentialsPath)
    let configFile = AWSConfigFile.load(configPath)
    let credentialsSection = credentialsFile?.sections[profileName]
    let configSection = configFile?.sections[profileName == "default" ? "default" : "profile \(profileName)"]
      ?? configFile?.sections[profileName]
    if value("AWS_PROFILE") != nil, credentialsSection == nil, configSection == nil {
      throw CotarError(
        .invalidArgument, "AWS_PROFILE names profile '\(profileName)', which is in neither \(credentialsPath) nor \(configPath)",
        source: "s3")
    }

    var credentials: S3Credentials?
    var absence = "unsigned requests (--no-sign-request)"
    if signRequests {
      if let key = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
        credentials = S3Credentials(
          accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"),
          source: "environment (AWS_ACCESS_KEY_ID)")
      } else {
        for (section, path) in [(credentialsSection, credentialsPath), (configSection, configPath)] {
          guard let section, let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"],
            !key.isEmpty, !secret.isEmpty
          else { continue }
          credentials = S3Credentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 },
            source: "profile '\(profileName)' in \(path)")
          break
        }
      }
      if credentials == nil {
        absence =
          "no credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset, no keys for profile '\(profileName)' in \(credentialsPath) or \(configPath)); sending unsigned requests"
      }
    }

    let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? configSection?["region"] ?? "us-east-1"
    let endpoint =
      endpointURL ?? value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? configSection?["endpoint_url"]
    if let endpoint { try checkEndpoint(endpoint) }
    var configuration = S3Configuration(endpoint: endpoint, region: region, addressing: addressing, credentials: credentials)
    configuration.credentialsAbsence = absence
    return configuration
  }

  /// Checks a custom endpoint: an `http://` or `https://` URL with a host and no user
  /// information (S3 requests are authenticated by their signature, so `user:password@` is
  /// refused rather than sent). Messages name the endpoint without user information or query.
  ///
  /// - Throws: `CotarError` `.invalidArgument` saying which of these the endpoint breaks.
  static func checkEndpoint(_ endpoint: String) throws(CotarError) {
    let shown = SourceResolver.redacted(endpoint)
    let lower = endpoint.lowercased()
    guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), let schemeEnd = endpoint.firstRange(of: "://") else {
      throw CotarError(.invalidArgument, "the S3 endpoint must be an http:// or https:// URL", source: shown)
    }
    let authority = endpoint[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    guard !authority.contains("@") else {
      throw CotarError(
        .invalidArgument,
        "the S3 endpoint must not contain user information (user:password@); S3 requests are signed with AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)",
        source: shown)
    }
    guard URLParts(endpoint) != nil else {
      throw CotarError(.invalidArgument, "the S3 endpoint must be an http:// or https:// URL with a host and an optional numeric port", source: shown)
    }
  }

  /// Which credentials are used, for messages: `access key AKIA… from environment` or why
  /// requests are unsigned. Never contains a secret.
  public var credentialSummary: String { credentials?.description ?? credentialsAbsence }

  /// The URL of an object (or of the bucket, for an empty key), with the key URI-encoded.
  ///
  /// - Parameter query: a raw query string to append (such as `uploads=`).
  public func url(for object: S3ObjectPath, query: String? = nil) -> String {
    let encodedKey = S3Encoding.encode(object.key, keepSlash: true)
    let suffix = query.map { "?" + $0 } ?? ""
    if usesVirtualHost(object.bucket), let separator = endpoint.firstRange(of: "://") {
      let scheme = endpoint[..<separator.upperBound]
      let rest = endpoint[separator.upperBound...]
      return "\(scheme)\(object.bucket).\(rest)/\(encodedKey)\(suffix)"
    }
    return "\(endpoint)/\(object.bucket)/\(encodedKey)\(suffix)"
  }

  /// Whether `bucket` is addressed as a host name.
  func usesVirtualHost(_ bucket: String) -> Bool {
    switch addressing {
    case .path: return false
    case .virtual: return true
    case .auto:
      guard !isCustomEndpoint else { return false }
      // DNS-compatible and, for TLS certificates, without dots.
      return !bucket.contains(".")
        && bucket.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
  }

  private static func trimSlash(_ text: String) -> String {
    var text = Substring(text)
    while text.hasSuffix("/") { text = text.dropLast() }
    return String(text)
  }
}

/// A bucket and key, from `s3://bucket/key`.
public struct S3ObjectPath: Sendable, Hashable, CustomStringConvertible {
  /// The bucket name.
  public var bucket: String
  /// The object key (may be empty for the bucket itself).
  public var key: String

  /// Creates a path.
  public init(bucket: String, key: String) {
    self.bucket = bucket
    self.key = key
  }

  /// Parses `s3://bucket/key`.
  ///
  /// - Throws: `CotarError` `.invalidArgument` when the location is not `s3://` or has no
  ///   bucket or no key.
  public init(parsing location: String) throws {
    guard SourceResolver.scheme(of: location) == "s3", let separator = location.firstRange(of: "://") else {
      throw CotarError(.invalidArgument, "not an s3://bucket/key location", source: location)
    }
    let rest = location[separator.upperBound...]
    guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex, rest.index(after: slash) != rest.endIndex else {
      throw CotarError(.invalidArgument, "an S3 location needs a bucket and a key: s3://bucket/key", source: location)
    }
    bucket = String(rest[..<slash])
    key = String(rest[rest.index(after: slash)...])
    guard !bucket.contains("?"), !bucket.contains("@") else {
      throw CotarError(.invalidArgument, "not a valid bucket name '\(bucket)'", source: location)
    }
  }

  /// `s3://bucket/key`.
  public var description: String { "s3://\(bucket)/\(key)" }
}

/// The process environment as a dictionary.
public enum ProcessEnvironment {
  /// The current process's environment variables.
  public static func current() -> [String: String] {
    var result: [String: String] = [:]
    var pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
    while let current = pointer, let entry = current.pointee {
      let text = String(cString: entry)
      if let equals = text.firstIndex(of: "=") {
        result[String(text[..<equals])] = String(text[text.index(after: equals)...])
      }
      pointer = current + 1
    }
    return result
  }
}
