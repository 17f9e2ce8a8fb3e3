import CotarCore
import CotarS3
import CotarTestSupport
import Foundation
import Testing

/// `cotar` against moto's S3 server (signature checking on), as a user runs it.
@Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: MotoServer.isAvailable, "moto is not installed: .ci/run installs it into .build/moto-venv (or set COTAR_MOTO_VENV)"))
struct S3CLITests {
  func cotar(_ server: MotoServer, _ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
    try await ProcessRunner.runDetached(CLI.executable.path, arguments, environment: server.environment.merging(environment) { $1 })
  }

  /// `cotar pack data --shard-size 8KiB -o BASE ARGUMENTS` in `directory` (a
  /// ``ShardSetCLITests/treeOfSixty()``), against `server`.
  func pack(
    _ server: MotoServer, to base: String, in directory: URL, _ arguments: [String], environment: [String: String] = [:]
  ) async throws -> ProcessResult {
    try await ProcessRunner.runDetached(
      CLI.executable.path, ["pack", "data", "--shard-size", "8KiB", "-o", base] + arguments, in: directory.path,
      environment: server.environment.merging(environment) { $1 })
  }

  func uploader(_ server: MotoServer) -> S3Uploader {
    S3Uploader(
      s3: S3Configuration(
        endpoint: server.endpoint, credentials: S3Credentials(
          accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey, source: "test")))
  }

  @Test func createGetLsInfoValidateAndWrongSecret() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let archive = try await TestArchive.make(count: 200)
    let tarPath = directory.appendingPathComponent("small.tar").path
    try Data(archive.tar).write(to: URL(fileURLWithPath: tarPath))
    let location = "s3://\(server.bucket)/\(prefix)sets/small.tar.co"

    let created = try await cotar(server, ["create", tarPath, "-o", location])
    #expect(created.status == 0, "\(created.stderr)")
    let again = try await cotar(server, ["create", tarPath, "-o", location])
    #expect(again.status != 0)
    #expect(again.stderr.contains("--force"))

    let wanted = archive.files[42]
    let got = try await cotar(server, ["get", location, wanted.path, "--stats"])
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == wanted.bytes)
    #expect(got.stderr.contains("stats: \(location): 2 requests"), "\(got.stderr)")

    let listed = try await cotar(server, ["ls", location, "--recursive"])
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdoutText.split(separator: "\n").count == archive.files.count)
    #expect(try await cotar(server, ["info", location]).status == 0)
    let validated = try await cotar(server, ["validate", location])
    #expect(validated.status == 0, "\(validated.stderr)")

    let wrong = "not-the-secret-0123456789"
    let refused = try await cotar(server, ["get", location, wanted.path], environment: ["AWS_SECRET_ACCESS_KEY": wrong])
    #expect(refused.status != 0)
    let lines = refused.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(refused.stderr)")
    #expect(refused.stderr.contains("signature does not match"))
    #expect(refused.stderr.contains("bucket '\(server.bucket)'"))
    #expect(refused.stderr.contains("key '\(prefix)sets/small.tar.co'"))
    #expect(refused.stderr.contains("environment (AWS_ACCESS_KEY_ID)"))
    #expect(!refused.stderr.contains(wrong))
    #expect(!refused.stderr.contains(server.secretAccessKey))

    let missing = try await cotar(server, ["get", "s3://\(server.bucket)/\(prefix)nope.tar.co", wanted.path])
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("no such key"))
  }

  /// `index --no-names` to S3 never leaves an older `X.tar.names` beside the new index:
  /// refused without `--force` (before anything is written), deleted with it.
  @Test func indexNoNamesToS3RefusesOrRemovesTheOlderNameTable() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let tarURL = "s3://\(server.bucket)/\(prefix)d.tar"
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "d.tar")
    var first = TestTar()
    first.add("a.txt", "one\n")
    first.add("b.txt", "two two\n")
    try await uploader(server).put(first.finished, to: object)
    #expect(try await cotar(server, ["index", tarURL]).status == 0)
    var second = TestTar()
    second.add("b.txt", "x\n")
    second.add("a.txt", "CHANGED-A-LONGER-CONTENT\n")
    try await uploader(server).put(second.finished, to: object)
    // Only the older name table is left: it alone refuses the run.
    try await uploader(server).delete(S3ObjectPath(bucket: server.bucket, key: prefix + "d.tar.index"))
    let refused = try await cotar(server, ["index", tarURL, "--no-names"])
    #expect(refused.status == 1, "\(refused.stderr)")
    #expect(refused.stderr.contains("\(tarURL).names") && refused.stderr.contains("pass --force"), "\(refused.stderr)")
    let noIndex = try await cotar(server, ["get", tarURL, "a.txt"])
    #expect(noIndex.status != 0, "the refused run wrote \(tarURL).index")
    let forced = try await cotar(server, ["index", tarURL, "--no-names", "--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(forced.stderr.contains("removed \(tarURL).names"), "\(forced.stderr)")
    let listed = try await cotar(server, ["ls", tarURL])
    #expect(listed.stderr.contains("no name table"), "\(listed.stderr)")
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let out = directory.appendingPathComponent("out")
    let extracted = try await cotar(server, ["extract", tarURL, "-o", out.path])
    #expect(extracted.status == 0, "\(extracted.stderr)")
    #expect(try String(contentsOf: out.appendingPathComponent("a.txt"), encoding: .utf8) == "CHANGED-A-LONGER-CONTENT\n")
    #expect(try String(contentsOf: out.appendingPathComponent("b.txt"), encoding: .utf8) == "x\n")
  }

  @Test func indexAndCreateWhereTheTarLives() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    // Two large members and a few small ones: 6 MiB, above S3's 5 MiB part minimum.
    var tar = TestTar()
    tar.add("a.txt", "alpha")
    tar.add("big/one.bin", (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) })
    tar.add("b.txt", "beta")
    tar.add("big/two.bin", (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 5) })
    tar.add("c.txt", "gamma")
    let bytes = tar.finished
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "remote.tar")
    try await uploader(server).put(bytes, to: object)

    let indexed = try await cotar(server, ["index", "s3://\(server.bucket)/\(prefix)remote.tar", "--stats"])
    #expect(indexed.status == 0, "\(indexed.stderr)")
    #expect(indexed.stderr.contains("s3://\(server.bucket)/\(prefix)remote.tar.index (upload): 1 request, "), "\(indexed.stderr)")
    // The name table goes beside the sidecar, so `ls` reads it instead of scanning the tar.
    #expect(indexed.stderr.contains("s3://\(server.bucket)/\(prefix)remote.tar.names (upload): 1 request, "), "\(indexed.stderr)")
    let listedSidecar = try await cotar(server, ["ls", "s3://\(server.bucket)/\(prefix)remote.tar", "--recursive"])
    #expect(listedSidecar.status == 0, "\(listedSidecar.stderr)")
    #expect(listedSidecar.stdoutText.split(separator: "\n").count == 5, "\(listedSidecar.stdoutText)")
    #expect(!listedSidecar.stderr.contains("no name table"), "\(listedSidecar.stderr)")
    // A remote tar indexed to a local sidecar gets its local name table too.
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let localIndex = directory.appendingPathComponent("remote.tar.index").path
    let indexedLocally = try await cotar(server, ["index", "s3://\(server.bucket)/\(prefix)remote.tar", "-o", localIndex])
    #expect(indexedLocally.status == 0, "\(indexedLocally.stderr)")
    let names = try Data(contentsOf: directory.appendingPathComponent("remote.tar.names"))
    #expect(try await NameTable.open(in: MemorySource(Array(names)), endingAt: UInt64(names.count))?.count == 5)
    let sidecarGet = try await cotar(server, ["get", "s3://\(server.bucket)/\(prefix)remote.tar", "b.txt"])
    #expect(sidecarGet.status == 0, "\(sidecarGet.stderr)")
    #expect(sidecarGet.stdoutText == "beta")

    let target = "s3://\(server.bucket)/\(prefix)remote.tar.co"
    let created = try await cotar(server, ["create", "s3://\(server.bucket)/\(prefix)remote.tar", "-o", target, "--stats"])
    #expect(created.status == 0, "\(created.stderr)")
    // The tar was scanned with small range reads and copied server-side, not downloaded.
    let received = try #require(Self.totalBytes(created.stderr))
    #expect(received < UInt64(bytes.count) / 20, "\(created.stderr)")
    let validated = try await cotar(server, ["validate", target])
    #expect(validated.status == 0, "\(validated.stderr)")
    let listed = try await cotar(server, ["ls", target, "--recursive"])
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdoutText.split(separator: "\n").count == 5, "\(listed.stdoutText)")
    #expect(!listed.stderr.contains("no name table"), "\(listed.stderr)")
    let got = try await cotar(server, ["get", target, "big/two.bin"])
    #expect(Array(got.stdout) == (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 5) })
  }

  @Test func serveReopensAReplacedObject() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let object = S3ObjectPath(bucket: server.bucket, key: prefix + "served.tar.co")
    func combined(_ files: [(String, String)]) async throws -> [UInt8] {
      var tar = TestTar()
      for (name, text) in files { tar.add(name, text) }
      let bytes = tar.finished
      return bytes + (try await CotarIndexBuilder.build(tar: MemorySource(bytes)).index.bytes)
    }
    try await uploader(server).put(try await combined([("a.txt", "version one\n"), ("b.txt", "bee\n")]), to: object)
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let serve = try await ServeProcess.start([object.description, "--quiet"], in: directory, environment: server.environment)
    defer { serve.stop() }
    let first = try #require(await LoopbackClient.get(port: serve.port, "/v1/file/a.txt"))
    #expect(first.hasPrefix("HTTP/1.1 200") && first.hasSuffix("\r\n\r\nversion one\n"), "\(first)")

    // Replaced in place: the pinned ETag no longer matches, so serve opens it again.
    try await uploader(server).put(try await combined([("a.txt", "version two, longer\n")]), to: object)
    let second = try #require(await LoopbackClient.get(port: serve.port, "/v1/file/a.txt"))
    #expect(second.hasPrefix("HTTP/1.1 200") && second.hasSuffix("\r\n\r\nversion two, longer\n"), "\(second)\n\(serve.log)")
    let gone = try #require(await LoopbackClient.get(port: serve.port, "/v1/file/b.txt"))
    #expect(gone.hasPrefix("HTTP/1.1 404"), "\(gone)")
  }

  @Test func packToS3PublishesTheManifestLastAndGetReadsThroughIt() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let directory = try ShardSetCLITests.treeOfSixty()
    defer { try? FileManager.default.removeItem(at: directory) }
    let base = "s3://\(server.bucket)/\(prefix)sets/p"
    func pack(_ extra: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
      try await self.pack(server, to: base, in: directory, ["--co"] + extra, environment: environment)
    }

    // A store that refuses the manifest: the run fails, and neither the manifest nor any
    // shard it uploaded is left behind.
    let refused = try await pack([], environment: [
      "AWS_ACCESS_KEY_ID": server.noManifestCredentials.accessKeyID,
      "AWS_SECRET_ACCESS_KEY": server.noManifestCredentials.secretAccessKey,
    ])
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("access denied: the credentials are valid"), "\(refused.stderr)")
    #expect(refused.stderr.contains("bucket '\(server.bucket)', key '\(prefix)sets/p.manifest.json'"), "\(refused.stderr)")
    let shardPuts = server.requestLines.filter { $0.hasPrefix("PUT /\(server.bucket)/\(prefix)sets/p-") }
    #expect(shardPuts.count > 3, "\(server.requestLines.suffix(20))")
    for line in shardPuts {
      let key = String(line.dropFirst("PUT /\(server.bucket)/".count).prefix { $0 != " " })
      let probe = try await cotar(server, ["info", "s3://\(server.bucket)/\(key)"])
      #expect(probe.stderr.contains("no such key"), "\(key): \(probe.stderr)")
    }
    let noManifest = try await cotar(server, ["get", base + ".manifest.json", ShardSetCLITests.path(3)])
    #expect(noManifest.stderr.contains("no such key"), "\(noManifest.stderr)")

    let packed = try await pack(["--stats"])
    #expect(packed.status == 0, "\(packed.stderr)")
    #expect(packed.stderr.contains("\(base).manifest.json: "), "\(packed.stderr)")
    // Every shard went up before the manifest.
    let puts = server.requestLines.filter { $0.hasPrefix("PUT /\(server.bucket)/\(prefix)sets/") }
    #expect(puts.last?.hasPrefix("PUT /\(server.bucket)/\(prefix)sets/p.manifest.json") == true, "\(puts)")
    #expect(try await pack([]).stderr.contains("--force"))

    let got = try await cotar(server, ["get", base + ".manifest.json", ShardSetCLITests.path(51), ShardSetCLITests.path(2), "--stats"])
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == ShardSetCLITests.content(51) + ShardSetCLITests.content(2))
    // The manifest in one request, then two small .tar.co shards of 1 request each (the
    // suffix read holds the whole shard).
    #expect(got.stderr.contains("stats: total: 3 requests"), "\(got.stderr)")
  }

  @Test func packForceToS3ThatFailsLeavesTheExistingSetAsItWas() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let directory = try ShardSetCLITests.treeOfSixty()
    defer { try? FileManager.default.removeItem(at: directory) }
    let base = "s3://\(server.bucket)/\(prefix)force/p"
    let everyPath = (0..<60).map(ShardSetCLITests.path)
    func pack(_ extra: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
      try await self.pack(server, to: base, in: directory, extra, environment: environment)
    }
    /// The shard keys PUT since request line `start`.
    func shardKeys(since start: Int) -> Set<String> {
      let put = "PUT /\(server.bucket)/"
      return Set(
        server.requestLines[start...].filter { $0.hasPrefix(put + prefix + "force/p-") }
          .map { String($0.dropFirst(put.count).prefix { $0 != " " && $0 != "?" }) })
    }

    // Set A: .tar shards with their .tar.index and .tar.names.
    let startA = server.requestLines.count
    let packedA = try await pack([])
    #expect(packedA.status == 0, "\(packedA.stderr)")
    let keysA = shardKeys(since: startA)
    #expect(keysA.count > 9, "\(keysA)")

    // The same paths with other bytes, --force, by a user who may not write the manifest.
    for index in 0..<60 {
      try Data(Array("B".utf8) + ShardSetCLITests.content(index)).write(to: directory.appendingPathComponent(ShardSetCLITests.path(index)))
    }
    let startB = server.requestLines.count
    let refused = try await pack(["--force"], environment: [
      "AWS_ACCESS_KEY_ID": server.noManifestCredentials.accessKeyID,
      "AWS_SECRET_ACCESS_KEY": server.noManifestCredentials.secretAccessKey,
    ])
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("access denied: the credentials are valid"), "\(refused.stderr)")
    #expect(refused.stderr.contains("bucket '\(server.bucket)', key '\(prefix)force/p.manifest.json'"), "\(refused.stderr)")

    // A's manifest still reads A's bytes, from every shard.
    let got = try await cotar(server, ["get", base + ".manifest.json"] + everyPath)
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == (0..<60).flatMap(ShardSetCLITests.content), "\(got.stderr)")
    // Nothing this run uploaded is left, but for the objects A's manifest lists.
    let keysB = shardKeys(since: startB)
    #expect(keysB.count > 9, "\(server.requestLines.suffix(20))")
    for key in keysB.subtracting(keysA).sorted() {
      let probe = try await cotar(server, ["info", "s3://\(server.bucket)/\(key)"])
      #expect(probe.stderr.contains("no such key"), "\(key): \(probe.stderr)")
    }

    // A --force run that succeeds replaces A, and A's shards go.
    let packedB = try await pack(["--force"])
    #expect(packedB.status == 0, "\(packedB.stderr)")
    let gotB = try await cotar(server, ["get", base + ".manifest.json"] + everyPath)
    #expect(Array(gotB.stdout) == (0..<60).flatMap { Array("B".utf8) + ShardSetCLITests.content($0) }, "\(gotB.stderr)")
    for key in keysA.subtracting(shardKeys(since: startB)).sorted().prefix(3) {
      let probe = try await cotar(server, ["info", "s3://\(server.bucket)/\(key)"])
      #expect(probe.stderr.contains("no such key"), "\(key): \(probe.stderr)")
    }
  }

  @Test func packGzipToS3UploadsEachShardWithItsIndexAndGetReadsThroughIt() async throws {
    let server = try await MotoServer.shared()
    let prefix = server.uniquePrefix()
    let directory = try ShardSetCLITests.treeOfSixty()
    defer { try? FileManager.default.removeItem(at: directory) }
    let base = "s3://\(server.bucket)/\(prefix)gz/p"
    let packed = try await ProcessRunner.runDetached(
      CLI.executable.path, ["pack", "data", "--shard-size", "8KiB", "--gzip", "-o", base], in: directory.path,
      environment: server.environment)
    #expect(packed.status == 0, "\(packed.stderr)")
    let puts = server.requestLines.filter { $0.hasPrefix("PUT /\(server.bucket)/\(prefix)gz/") }
    let keys = puts.map { String($0.dropFirst("PUT /\(server.bucket)/\(prefix)gz/".count).prefix { $0 != " " && $0 != "?" }) }
    // Each .tar.gz with its .tar.gz.index, nothing else, and the manifest last.
    #expect(keys.last == "p.manifest.json", "\(keys)")
    let shards = keys.filter { $0.hasSuffix(".tar.gz") }
    #expect(shards.count > 1, "\(keys)")
    #expect(Set(keys) == Set(shards + shards.map { $0 + ".index" } + ["p.manifest.json"]), "\(keys)")

    let got = try await cotar(server, ["get", base + ".manifest.json", ShardSetCLITests.path(51), ShardSetCLITests.path(2)])
    #expect(got.status == 0, "\(got.stderr)")
    #expect(Array(got.stdout) == ShardSetCLITests.content(51) + ShardSetCLITests.content(2))
  }

  /// The bytes in the `stats: total:` line.
  static func totalBytes(_ stderr: String) -> UInt64? {
    guard let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("stats: total:") }),
      let words = Optional(line.split(separator: " ")), let index = words.firstIndex(of: "bytes"), index > 0
    else { return nil }
    return UInt64(words[index - 1])
  }
}
