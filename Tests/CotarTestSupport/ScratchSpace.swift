import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where tests keep their files: one directory per test process, `$TMPDIR/cotar-tests-<pid>`,
/// removed when the process exits.
///
/// Tests still remove what they make as they go; this is the net under them. A shared fixture
/// built once per process (a `static let`) has no teardown in Swift Testing, and a process that
/// dies (a crash, a CI time limit) runs none at all. Each of those used to leave up to 130 MB in
/// `/tmp` per `swift test`, and repeated runs filled a CI machine's disk. A directory whose
/// process is gone is removed by the next test process that starts.
public enum ScratchSpace {
  /// The prefix of every per-process scratch directory.
  static let prefix = "cotar-tests-"

  /// This process's scratch directory, created (and abandoned ones swept) on first use.
  public static let root: URL = {
    let base = FileManager.default.temporaryDirectory
    sweepAbandoned(in: base)
    let root = base.appendingPathComponent(prefix + String(getpid()))
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: ScratchSpace.root) }
    return root
  }()

  /// A new, empty directory under ``root``, named `label-<uuid>`.
  /// - Throws: the file system's error if it cannot be created.
  public static func directory(_ label: String) throws -> URL {
    let url = root.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// A path under ``root`` that nothing uses yet: `label-<uuid>suffix`. Nothing is created.
  public static func path(_ label: String, suffix: String = "") -> String {
    root.appendingPathComponent("\(label)-\(UUID().uuidString)\(suffix)").path
  }

  /// Removes every `cotar-tests-<pid>` directory in `base` whose process no longer runs.
  /// Directories of live processes (a concurrent `swift test`) and other names are left alone.
  public static func sweepAbandoned(in base: URL) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
    for name in names where name.hasPrefix(prefix) {
      guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
      if kill(pid, 0) == -1 && errno == ESRCH {
        try? FileManager.default.removeItem(at: base.appendingPathComponent(name))
      }
    }
  }
}
