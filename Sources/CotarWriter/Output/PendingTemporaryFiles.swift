import CotarCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The temporary files of every writer in the process not yet moved into place or removed
/// (``AtomicFileWriter``'s outputs and ``SafeExtractor``'s files and links), so that SIGINT or
/// SIGTERM can remove them all before the process exits
/// (``AtomicFileWriter/removePendingTemporaryFiles()``).
enum PendingTemporaryFiles {
  /// A temporary name: `name` in the open directory `directory`, or a path (`AT_FDCWD`).
  struct Entry: Hashable, Sendable {
    /// The directory descriptor `name` is relative to; it stays open while the entry is registered.
    var directory: Int32
    /// The raw name or path.
    var name: [UInt8]
  }

  private struct State {
    var entries: Set<Entry> = []
    /// Staging directories (`pack`'s): removed with the files in them.
    var directories: Set<String> = []
    /// Set by ``removeAll()``: the process is exiting, no new temporary file may appear.
    var closed = false
  }

  private static let state = Mutex<State>(State())

  /// Runs `create` under the lock and registers the entry it made, so a concurrent
  /// ``removeAll()`` never misses a file that exists. After ``removeAll()`` nothing is
  /// created: the call fails with `EINTR`.
  ///
  /// - Throws: `SystemCallError` from `create`, or `EINTR` once the process is exiting.
  static func create(
    _ create: () throws(SystemCallError) -> (descriptor: Int32, entry: Entry)
  ) throws(SystemCallError) -> (descriptor: Int32, entry: Entry) {
    let created = state.withLock { state in
      Result { () throws(SystemCallError) in
        guard !state.closed else { throw SystemCallError(call: "create a temporary file (interrupted)", errno: EINTR) }
        let made = try create()
        state.entries.insert(made.entry)
        return made
      }
    }
    return try created.get()
  }

  /// Forgets `entry` (moved into place or removed by its writer).
  static func remove(_ entry: Entry) {
    _ = state.withLock { $0.entries.remove(entry) }
  }

  /// Registers the staging directory at `path` (which holds files only), so that
  /// ``removeAll()`` removes it with what is in it.
  static func addDirectory(_ path: String) {
    _ = state.withLock { $0.directories.insert(path) }
  }

  /// Forgets the staging directory at `path` (removed by its writer).
  static func removeDirectory(_ path: String) {
    _ = state.withLock { $0.directories.remove(path) }
  }

  /// Removes every registered temporary file and staging directory and refuses new ones (the
  /// process is exiting). Not async-signal-safe: call it from a dispatch signal source.
  static func removeAll() {
    state.withLock { state in
      state.closed = true
      for entry in state.entries { try? Syscall.unlink(at: entry.directory, bytes: entry.name) }
      state.entries.removeAll()
      // Deepest first: a staging directory may sit in another (`pack` to S3).
      for directory in state.directories.sorted(by: { $0.count > $1.count }) { removeFlatDirectory(directory) }
      state.directories.removeAll()
    }
  }

  /// Removes the files in the directory at `path`, then the directory (it holds no
  /// subdirectories).
  static func removeFlatDirectory(_ path: String) {
    for name in (try? Syscall.directoryEntries(bytes: Array(path.utf8))) ?? [] {
      try? Syscall.unlink(path + "/" + String(decoding: name, as: UTF8.self))
    }
    try? Syscall.removeDirectory(path)
  }
}
