import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A moto S3 server (https://github.com/getmoto/moto) on 127.0.0.1 with signature checking
/// on: requests must be signed with the key pair of an IAM user made at start
/// (``accessKeyID``/``secretAccessKey``), so a wrong signature fails with 403.
///
/// One server serves the whole test process (``shared()``): it is started once, lazily, by
/// the first test that asks, and every test works under its own key prefix
/// (``uniquePrefix(_:)``), so suites may run in parallel. Starting moto costs a Python
/// interpreter and moto's imports (seconds on a loaded machine); starting one per test made
/// the S3 suites crawl. The server runs moto's threaded server inside one Python process
/// that exits by itself when the test process goes away.
///
/// Why the suites used to hang: each test started its own `moto_server` and stopped it with
/// `terminate()` + `waitUntilExit()`. A process started from a Swift concurrency (dispatch)
/// thread inherits that thread's signal mask, in which SIGTERM is blocked, so moto never
/// saw the signal and `waitUntilExit()` blocked a cooperative thread for ever. The shared
/// server is never signalled: it watches its parent and exits when the parent is gone.
///
/// moto is installed by `.ci/run` into `.build/moto-venv`; `COTAR_MOTO_VENV` names another
/// virtual environment. Without it, S3 tests are skipped (``isAvailable``).
public final class MotoServer: Sendable {
  /// `http://127.0.0.1:PORT`.
  public let endpoint: String
  /// The bucket made at start (tests put their objects under ``uniquePrefix(_:)``).
  public let bucket: String
  /// The access key id of the IAM user made at start.
  public let accessKeyID: String
  /// Its secret key.
  public let secretAccessKey: String
  /// Access key id and secret of a second IAM user that may do everything except PUT an
  /// object whose key ends in `.manifest.json`: a store that fails the last step of a
  /// `pack` upload.
  public let noManifestCredentials: (accessKeyID: String, secretAccessKey: String)
  private let logURL: URL

  private init(
    endpoint: String, bucket: String, accessKeyID: String, secretAccessKey: String,
    noManifestCredentials: (String, String), logURL: URL
  ) {
    self.endpoint = endpoint
    self.bucket = bucket
    self.accessKeyID = accessKeyID
    self.secretAccessKey = secretAccessKey
    self.noManifestCredentials = noManifestCredentials
    self.logURL = logURL
  }

  /// The request lines moto has logged so far (`PUT /bucket/key HTTP/1.1`), oldest first.
  public var requestLines: [String] {
    let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
      guard let open = line.firstIndex(of: "\""), let close = line[line.index(after: open)...].firstIndex(of: "\"") else { return nil }
      return String(line[line.index(after: open)..<close])
    }
  }

  /// The virtual environment holding moto, if any.
  public static var venv: String? {
    var candidates: [String] = []
    if let given = ProcessInfo.processInfo.environment["COTAR_MOTO_VENV"] { candidates.append(given) }
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path
    candidates.append(packageRoot + "/.build/moto-venv")
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/bin/python") && FileManager.default.fileExists(atPath: $0 + "/bin/moto_server") }
  }

  /// Whether moto is installed; S3 tests are skipped (saying so) otherwise.
  public static var isAvailable: Bool { venv != nil }

  /// Environment variables for `cotar` pointing at this server with the IAM user's credentials.
  public var environment: [String: String] {
    [
      "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey,
      "AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
      "AWS_CONFIG_FILE": "/nonexistent", "AWS_SESSION_TOKEN": "", "AWS_ENDPOINT_URL_S3": "",
    ]
  }

  /// A key prefix no other test uses: `label-XXXXXXXX/`.
  public func uniquePrefix(_ label: String = "t") -> String {
    "\(label)-\(UUID().uuidString.prefix(8).lowercased())/"
  }

  /// The server of this test process, started on first use.
  ///
  /// - Throws: ``MotoError`` when moto is missing or does not come up within a minute (the
  ///   message has the end of its standard error); every later call throws the same.
  public static func shared() async throws -> MotoServer {
    let task = sharedStart.withLock { started in
      if let started { return started }
      let task = Task<MotoServer, any Error> {
        // Starting blocks (polling a file); keep it off the cooperative thread pool.
        try await withCheckedThrowingContinuation { continuation in
          let thread = Thread { continuation.resume(with: Result { try start() }) }
          thread.start()
        }
      }
      started = task
      return task
    }
    return try await task.value
  }

  private static let sharedStart = Mutex<Task<MotoServer, any Error>?>(nil)

  /// Runs moto's threaded server in one Python process: it picks a free port itself (no
  /// race), makes the IAM user (the only unauthenticated requests) and the bucket, prints
  /// endpoint and keys, then serves until its parent (this process) is gone. Its standard
  /// error (moto's request log) is kept for ``requestLines``.
  static let launcher = """
    import json, os, signal, sys, threading, time
    # A child started from a dispatch worker thread inherits its blocked signals (Foundation's
    # Process does not reset the mask): unblock them, so the server can be stopped as usual.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
    parent = os.getppid()
    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://127.0.0.1:%d" % server.get_host_and_port()[1]
    import boto3
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="cotar")
    key = iam.create_access_key(UserName="cotar")["AccessKey"]
    iam.put_user_policy(UserName="cotar", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    kw.update(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    boto3.client("s3", **kw).create_bucket(Bucket=sys.argv[1])
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="nomanifest")
    denied = iam.create_access_key(UserName="nomanifest")["AccessKey"]
    iam.put_user_policy(UserName="nomanifest", PolicyName="all-but-manifests", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*.manifest.json" % sys.argv[1]}]}))
    print(endpoint); print(key["AccessKeyId"]); print(key["SecretAccessKey"])
    print(denied["AccessKeyId"]); print(denied["SecretAccessKey"]); sys.stdout.flush()
    threading.Event().wait()
    """

  /// Starts a server (blocking, at most `timeout` seconds).
  static func start(bucket: String = "cotar-test", timeout: TimeInterval = 60) throws -> MotoServer {
    guard let venv else { throw MotoError("moto is not installed (run .ci/run, or set COTAR_MOTO_VENV)") }
    let scratch = try ScratchSpace.directory("cotar-moto")
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: venv + "/bin/python")
    process.arguments = ["-c", launcher, bucket]
    var environment = ProcessInfo.processInfo.environment
    for name in environment.keys where name.hasPrefix("AWS_") { environment[name] = nil }
    process.environment = environment
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let lines = ((try? String(contentsOf: outURL, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
      if lines.count >= 5 {
        return MotoServer(
          endpoint: lines[0], bucket: bucket, accessKeyID: lines[1], secretAccessKey: lines[2],
          noManifestCredentials: (lines[3], lines[4]), logURL: errURL)
      }
      let failure: String? =
        !process.isRunning ? "moto exited with status \(process.terminationStatus)"
        : Date() > deadline ? "moto did not start within \(Int(timeout)) s" : nil
      if let failure {
        // SIGKILL: the only signal a child with an inherited blocked mask cannot ignore.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let errors = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        throw MotoError("\(failure): \(errors.suffix(2000))")
      }
      usleep(50_000)
    }
  }
}

/// A failure starting moto.
public struct MotoError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String
  init(_ description: String) { self.description = description }
}
