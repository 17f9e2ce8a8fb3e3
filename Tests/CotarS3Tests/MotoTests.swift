import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarS3
import CotarTestSupport
import Testing

/// Reads and writes against moto's S3 server with signature checking on.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: MotoServer.isAvailable, "moto is not installed: .ci/run installs it into .build/moto-venv (or set COTAR_MOTO_VENV)"))
struct MotoTests {
  func configuration(_ server: MotoServer, secret: String? = nil) -> S3Configuration {
    S3Configuration(
      endpoint: server.endpoint, region: "us-east-1", addressing: .auto,
      credentials: S3Credentials(
        accessKeyID: server.accessKeyID, secretAccessKey: secret ?? server.secretAccessKey, source: "test environment"))
  }

  @Test func putThenReadTarCoWithinTheRequestBudget() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let s3 = configuration(server)
    let archive = try await TestArchive.make(count: 300)
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "data/set one.tar.co")
    try await S3Uploader(s3: s3).put(archive.combined, to: object)

    let source = try S3RangeSource(object: object, s3: s3)
    let cotar = try await Cotar.open(source)
    let wanted = archive.files[137]
    #expect(try await cotar.read(wanted.path) == wanted.bytes)
    // A small index: its tail is read with the speculative suffix, then one data read.
    #expect(source.statistics.requests == 2)
    let warm = try await cotar.read(archive.files[5].path)
    #expect(warm == archive.files[5].bytes)
    #expect(source.statistics.requests <= 4)
  }

  @Test func largeIndexColdWarmHotRequestBudget() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let s3 = configuration(server)
    let archive = try await TestArchive.make(count: 5000)
    #expect(archive.index.count > 64 << 10)
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "big.tar.co")
    try await S3Uploader(s3: s3).put(archive.combined, to: object)
    let source = try S3RangeSource(object: object, s3: s3)
    let cotar = try await Cotar.open(source)
    let first = archive.files[1234]
    #expect(try await cotar.read(first.path) == first.bytes)
    #expect(source.statistics.requests == 3)  // suffix, window, data
    let other = archive.files[4321]
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(source.statistics.requests == 5)  // warm: window + data
    #expect(try await cotar.read(other.path) == other.bytes)
    #expect(source.statistics.requests == 6)  // hot: data only
    #expect(source.statistics.retries == 0)
  }

  @Test func resolverGuessesTheSidecarOfATar() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let s3 = configuration(server)
    let archive = try await TestArchive.make(count: 50)
    let uploader = S3Uploader(s3: s3)
    try await uploader.put(archive.tar, to: S3ObjectPath(bucket: server.bucket, key: prefix + "x.tar"))
    try await uploader.put(archive.index, to: S3ObjectPath(bucket: server.bucket, key: prefix + "x.tar.index"))
    let resolver = SourceResolver().addingS3(s3: s3)
    let cotar = try await Cotar.open(location: "s3://\(server.bucket)/\(prefix)x.tar", resolver: resolver)
    #expect(try await cotar.read(archive.files[7].path) == archive.files[7].bytes)
  }

  @Test func wrongSecretSaysSignatureDoesNotMatchWithoutTheSecret() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "secret.tar.co")
    try await S3Uploader(s3: configuration(server)).put(try await TestArchive.make(count: 5).combined, to: object)
    let wrong = "WRONG-SECRET-value-1234567890"
    let source = try S3RangeSource(object: object, s3: configuration(server, secret: wrong))
    do {
      _ = try await Cotar.open(source)
      Issue.record("opened with a wrong secret")
    } catch let error as CotarError {
      #expect(error.code == .httpStatus)
      #expect(error.httpStatus?.status == 403)
      let text = "\(error)"
      #expect(text.contains("signature does not match"))
      #expect(text.contains("bucket '\(server.bucket)'"))
      #expect(text.contains("key '\(prefix)secret.tar.co'"))
      #expect(text.contains("test environment"))
      #expect(!text.contains(wrong))
      #expect(!text.contains(server.secretAccessKey))
    }
    // One request: a 403 is not retried.
    #expect(source.statistics.requests == 1)
  }

  /// The error opening `object` with `s3`; records an issue when it opens.
  private func openingError(_ object: S3ObjectPath, _ s3: S3Configuration) async throws -> CotarError? {
    let source = try S3RangeSource(object: object, s3: s3)
    do {
      _ = try await Cotar.open(source)
      Issue.record("opened \(object) with bad credentials")
      return nil
    } catch let error as CotarError {
      #expect(source.statistics.requests == 1, "a refusal is not retried")
      return error
    }
  }

  @Test func refusedCredentialsSayWhyWithAdviceNamingTheObject() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "refused.tar.co")
    try await S3Uploader(s3: configuration(server)).put(try await TestArchive.make(count: 5).combined, to: object)
    var withToken = configuration(server)
    let token = "FwoGZXIvYXdzEBogus-session-token-987654"
    withToken.credentials?.sessionToken = token
    var unknownKey = configuration(server)
    unknownKey.credentials?.accessKeyID = "AKIAUNKNOWN000000000"
    let cases: [(S3Configuration, Int, String, String)] = [
      (withToken, 400, "InvalidToken", "the session token is malformed or does not belong to this access key id: check AWS_SESSION_TOKEN"),
      (unknownKey, 403, "InvalidAccessKeyId", "the access key id is not known to the store: check AWS_ACCESS_KEY_ID"),
      (configuration(server, secret: "WRONG-SECRET-value-1234567890"), 403, "SignatureDoesNotMatch", "the secret access key is wrong"),
    ]
    for (s3, status, code, advice) in cases {
      let error = try #require(try await openingError(object, s3))
      let text = "\(error)"
      #expect(error.code == .httpStatus, "\(text)")
      #expect(error.httpStatus?.status == status, "\(text)")
      #expect(error.httpStatus?.serviceCode == code, "\(text)")
      #expect(text.contains(advice), "\(text)")
      #expect(text.contains("bucket '\(server.bucket)', key '\(prefix)refused.tar.co'"), "\(text)")
      #expect(text.contains("credentials: access key"), "\(text)")
      #expect(!text.contains("unexpected answer"), "\(text)")
      #expect(!text.contains(token) && !text.contains(server.secretAccessKey), "\(text)")
    }
  }

  @Test func accessDeniedByPolicySaysTheCredentialsAreValid() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    var denied = configuration(server)
    denied.credentials = S3Credentials(
      accessKeyID: server.noManifestCredentials.accessKeyID, secretAccessKey: server.noManifestCredentials.secretAccessKey,
      source: "test environment")
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "set.manifest.json")
    do {
      try await S3Uploader(s3: denied).put(Array("{}".utf8), to: object)
      Issue.record("a denied PUT succeeded")
    } catch let error as CotarError {
      let text = "\(error)"
      #expect(error.code == .httpStatus)
      #expect(error.httpStatus?.status == 403)
      #expect(error.httpStatus?.serviceCode == "AccessDenied", "\(text)")
      #expect(text.contains("access denied: the credentials are valid, but the bucket policy or the IAM permissions"), "\(text)")
      #expect(text.contains("key '\(prefix)set.manifest.json'"), "\(text)")
    }
  }

  @Test func missingKeyIsNotFound() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let source = try S3RangeSource(object: S3ObjectPath(bucket: server.bucket, key: prefix + "nope.tar.co"), s3: configuration(server))
    do {
      _ = try await Cotar.open(source)
      Issue.record("opened a missing key")
    } catch let error as CotarError {
      #expect(error.code == .notFound)
      #expect(error.source == "s3://\(server.bucket)/\(prefix)nope.tar.co")
      #expect(error.message.contains("key '\(prefix)nope.tar.co'"))
    }
    let noBucket = try S3RangeSource(object: S3ObjectPath(bucket: "no-such-bucket", key: "k"), s3: configuration(server))
    await #expect(throws: CotarError.self) { _ = try await noBucket.size() }
  }

  @Test func multipartUploadCopyAndAbort() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let s3 = configuration(server)
    let uploader = S3Uploader(s3: s3)
    let part = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let source = S3ObjectPath(bucket: server.bucket, key: prefix + "source.bin")
    try await uploader.put(part, to: source)

    // Completed: a server-side copy of the source, then a small uploaded tail.
    let target = S3ObjectPath(bucket: server.bucket, key: prefix + "joined.bin")
    let id = try await uploader.createMultipartUpload(target)
    let first = try await uploader.uploadPartCopy(
      from: source, range: 0..<UInt64(part.count), number: 1, uploadID: id, object: target)
    let second = try await uploader.uploadPart(Array("tail".utf8), number: 2, uploadID: id, object: target)
    try await uploader.completeMultipartUpload(target, uploadID: id, etags: [first, second])
    let joined = try S3RangeSource(object: target, s3: s3)
    #expect(try await joined.size() == UInt64(part.count + 4))
    #expect(try await joined.read(UInt64(part.count - 3)..<UInt64(part.count + 4)) == Array(part.suffix(3)) + Array("tail".utf8))

    // Aborted: nothing becomes visible.
    let aborted = S3ObjectPath(bucket: server.bucket, key: prefix + "aborted.bin")
    let abortedID = try await uploader.createMultipartUpload(aborted)
    _ = try await uploader.uploadPart(part, number: 1, uploadID: abortedID, object: aborted)
    try await uploader.abortMultipartUpload(aborted, uploadID: abortedID)
    do {
      _ = try await S3RangeSource(object: aborted, s3: s3).size()
      Issue.record("an aborted upload is visible")
    } catch let error as CotarError {
      #expect(error.code == .notFound)
    }
  }
}
