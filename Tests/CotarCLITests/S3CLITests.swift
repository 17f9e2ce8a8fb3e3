import CotarCore
import CotarS3
import CotarTestSupport
import Foundation
import Testing

/// `cotar` against moto's S3 server (signature checking on), as a user runs it.
@Suite(.serialized, .timeLimit(.minutes(3)), .enabled(if: MotoServer.isAvailable, "needs moto (.ci/run installs it into .build/moto-venv) and COTAR_S3_TESTS=1"))
struct S3CLITests {
  func cotar(_ server: MotoServer, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try ProcessRunner.run(CLI.executable.path, arguments, environment: server.environment.merging(environment) { $1 })
  }

  func uploader(_ server: MotoServer) -> S3Uploader {
    S3Uploader(
      s3: S3Configuration(
        endpoint: server.endpoint, credentials: S3Credentials(
          accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey, source: "test")))
  }

  @Test func createGetLsInfoValidateAndWrongSecret() async throws {
    try await withMotoServer { server in
      let directory = try CLI.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: directory) }
      let archive = try await TestArchive.make(count: 200)
      let tarPath = directory.appendingPathComponent("small.tar").path
      try Data(archive.tar).write(to: URL(fileURLWithPath: tarPath))
      let location = "s3://\(server.bucket)/sets/small.tar.co"

      let created = try cotar(server, ["create", tarPath, "-o", location])
      #expect(created.status == 0, "\(created.stderr)")
      let again = try cotar(server, ["create", tarPath, "-o", location])
      #expect(again.status != 0)
      #expect(again.stderr.contains("--force"))

      let wanted = archive.files[42]
      let got = try cotar(server, ["get", location, wanted.path, "--stats"])
      #expect(got.status == 0, "\(got.stderr)")
      #expect(Array(got.stdout) == wanted.bytes)
      #expect(got.stderr.contains("stats: \(location): 2 requests"), "\(got.stderr)")

      let listed = try cotar(server, ["ls", location, "--recursive"])
      #expect(listed.status == 0, "\(listed.stderr)")
      #expect(listed.stdoutText.split(separator: "\n").count == archive.files.count)
      #expect(try cotar(server, ["info", location]).status == 0)
      let validated = try cotar(server, ["validate", location])
      #expect(validated.status == 0, "\(validated.stderr)")

      let wrong = "not-the-secret-0123456789"
      let refused = try cotar(server, ["get", location, wanted.path], environment: ["AWS_SECRET_ACCESS_KEY": wrong])
      #expect(refused.status != 0)
      let lines = refused.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(refused.stderr)")
      #expect(refused.stderr.contains("signature does not match"))
      #expect(refused.stderr.contains("bucket '\(server.bucket)'"))
      #expect(refused.stderr.contains("key 'sets/small.tar.co'"))
      #expect(refused.stderr.contains("environment (AWS_ACCESS_KEY_ID)"))
      #expect(!refused.stderr.contains(wrong))
      #expect(!refused.stderr.contains(server.secretAccessKey))

      let missing = try cotar(server, ["get", "s3://\(server.bucket)/nope.tar.co", wanted.path])
      #expect(missing.status != 0)
      #expect(missing.stderr.contains("no such key"))
    }
  }

  @Test func indexAndCreateWhereTheTarLives() async throws {
    try await withMotoServer { server in
      // Two large members and a few small ones: 6 MiB, above S3's 5 MiB part minimum.
      var tar = TestTar()
      tar.add("a.txt", "alpha")
      tar.add("big/one.bin", (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) })
      tar.add("b.txt", "beta")
      tar.add("big/two.bin", (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 5) })
      tar.add("c.txt", "gamma")
      let bytes = tar.finished
      let object = S3ObjectPath(bucket: server.bucket, key: "remote.tar")
      try await uploader(server).put(bytes, to: object)

      let indexed = try cotar(server, ["index", "s3://\(server.bucket)/remote.tar", "--stats"])
      #expect(indexed.status == 0, "\(indexed.stderr)")
      #expect(indexed.stderr.contains("s3://\(server.bucket)/remote.tar.index (upload): 1 requests"), "\(indexed.stderr)")
      let sidecarGet = try cotar(server, ["get", "s3://\(server.bucket)/remote.tar", "b.txt"])
      #expect(sidecarGet.status == 0, "\(sidecarGet.stderr)")
      #expect(sidecarGet.stdoutText == "beta")

      let target = "s3://\(server.bucket)/remote.tar.co"
      let created = try cotar(server, ["create", "s3://\(server.bucket)/remote.tar", "-o", target, "--stats"])
      #expect(created.status == 0, "\(created.stderr)")
      // The tar was scanned with small range reads and copied server-side, not downloaded.
      let received = try #require(Self.totalBytes(created.stderr))
      #expect(received < UInt64(bytes.count) / 20, "\(created.stderr)")
      let validated = try cotar(server, ["validate", target])
      #expect(validated.status == 0, "\(validated.stderr)")
      let got = try cotar(server, ["get", target, "big/two.bin"])
      #expect(Array(got.stdout) == (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 5) })
    }
  }

  /// The bytes in the `stats: total:` line.
  static func totalBytes(_ stderr: String) -> UInt64? {
    guard let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("stats: total:") }),
      let words = Optional(line.split(separator: " ")), let index = words.firstIndex(of: "bytes"), index > 0
    else { return nil }
    return UInt64(words[index - 1])
  }
}
