import CotarCore
import CotarTestSupport
import Foundation
import Testing

@testable import CotarS3

/// Credentials, region and endpoint resolved as the AWS CLI resolves them.
@Suite struct CredentialTests {
  func scratch() throws -> String {
    let directory = ScratchSpace.path("cotar-s3")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory
  }

  @Test func environmentKeysWin() throws {
    let s3 = try S3Configuration.resolve(environment: [
      "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s3cr3t-env", "AWS_SESSION_TOKEN": "tok",
      "AWS_DEFAULT_REGION": "eu-central-1", "HOME": "/nonexistent",
    ])
    #expect(s3.credentials?.accessKeyID == "AKIDENV")
    #expect(s3.credentials?.sessionToken == "tok")
    #expect(s3.region == "eu-central-1")
    #expect(s3.endpoint == "https://s3.eu-central-1.amazonaws.com")
    #expect(!s3.credentialSummary.contains("s3cr3t"))
    #expect(s3.credentialSummary.contains("environment"))
  }

  @Test func profileFromSharedFilesAndConfig() throws {
    let directory = try scratch()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try """
      [default]
      aws_access_key_id = AKIDDEFAULT
      aws_secret_access_key = default-secret

      [dev]
      aws_access_key_id=AKIDDEV
      aws_secret_access_key = dev-secret
      """.write(toFile: directory + "/creds", atomically: true, encoding: .utf8)
    try """
      [profile dev]
      region = ap-southeast-2
      endpoint_url = http://127.0.0.1:9000
      # comment
      [profile cfgonly]
      aws_access_key_id = AKIDCFG
      aws_secret_access_key = cfg-secret
      """.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
    let base = ["AWS_SHARED_CREDENTIALS_FILE": directory + "/creds", "AWS_CONFIG_FILE": directory + "/config", "HOME": "/nonexistent"]
    let dev = try S3Configuration.resolve(environment: base.merging(["AWS_PROFILE": "dev"]) { $1 })
    #expect(dev.credentials?.accessKeyID == "AKIDDEV")
    #expect(dev.credentials?.secretAccessKey == "dev-secret")
    #expect(dev.region == "ap-southeast-2")
    #expect(dev.endpoint == "http://127.0.0.1:9000")
    #expect(dev.credentialSummary == "access key AKIDDEV from profile 'dev' in \(directory)/creds")
    let fallback = try S3Configuration.resolve(environment: base)
    #expect(fallback.credentials?.accessKeyID == "AKIDDEFAULT")
    let configOnly = try S3Configuration.resolve(environment: base.merging(["AWS_PROFILE": "cfgonly"]) { $1 })
    #expect(configOnly.credentials?.accessKeyID == "AKIDCFG")
    // AWS_REGION beats the profile; --endpoint-url beats AWS_ENDPOINT_URL and the profile.
    let overridden = try S3Configuration.resolve(
      environment: base.merging(["AWS_PROFILE": "dev", "AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL": "http://10.0.0.1"]) { $1 },
      endpointURL: "http://127.0.0.1:1234/")
    #expect(overridden.region == "us-west-2")
    #expect(overridden.endpoint == "http://127.0.0.1:1234")
    #expect(overridden.isCustomEndpoint)
  }

  @Test func unknownProfileIsAnError() throws {
    do {
      _ = try S3Configuration.resolve(environment: ["AWS_PROFILE": "nope", "HOME": "/nonexistent"])
      Issue.record("no error")
    } catch let error as CotarError {
      #expect(error.code == .invalidArgument)
      #expect(error.message.contains("'nope'"))
    }
  }

  @Test func noSignRequestLooksUpNothing() throws {
    let s3 = try S3Configuration.resolve(
      environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x", "HOME": "/nonexistent"], signRequests: false)
    #expect(s3.credentials == nil)
    #expect(s3.credentialSummary.contains("--no-sign-request"))
  }

  @Test func badEndpointIsRejected() {
    #expect(throws: CotarError.self) {
      try S3Configuration.resolve(environment: ["HOME": "/nonexistent"], endpointURL: "ftp://example")
    }
  }
}
