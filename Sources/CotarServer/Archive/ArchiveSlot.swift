import CotarCore
import Synchronization

/// The current version of one served archive, replaced when a remote archive is reopened
/// after its object changed.
final class ArchiveSlot: Sendable {
  private struct Current: Sendable {
    var archive: ServedArchive
    var generation = 0
  }

  private let state: Mutex<Current>

  init(_ archive: ServedArchive) { state = Mutex(Current(archive: archive)) }

  /// The archive as currently opened, and its generation (bumped by every reopen).
  var current: (archive: ServedArchive, generation: Int) { state.withLock { ($0.archive, $0.generation) } }

  /// Reopens the archive unless another request already did since `generation`.
  ///
  /// - Returns: whether a reopen happened or had happened (false: the archive cannot reopen).
  /// - Throws: what the archive's ``ServedArchive/reopen`` throws.
  func reopen(after generation: Int) async throws -> Bool {
    let (archive, now) = current
    guard let reopen = archive.reopen else { return false }
    if now != generation { return true }
    let fresh = try await reopen()
    let stale: ServedArchive? = state.withLock { current in
      guard current.generation == generation else { return nil }
      let old = current.archive
      current.archive = fresh.reopen == nil ? fresh.reopening(with: reopen) : fresh
      current.generation += 1
      return old
    }
    if let stale, let cached = stale.cotar.index.source as? BlockCacheSource {
      await cached.cache.purge(owner: cached.owner)
    }
    return true
  }
}
