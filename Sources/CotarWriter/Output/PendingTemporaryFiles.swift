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

  /// Removes every registered temporary file and refuses new ones (the process is exiting).
  /// Not async-signal-safe: call it from a dispatch signal source.
  static func removeAll() {
    state.withLock { state in
      state.closed = true
      for entry in state.entries { try? Syscall.unlink(at: entry.directory, bytes: entry.name) }
      state.entries.removeAll()
    }
  }
}
