import CotarCore
import Synchronization

/// The current version of one served archive, replaced when the archive is reopened: a remote
/// archive after its object changed, a local one after its files changed on disk.
final class ArchiveSlot: Sendable {
  private struct Current: Sendable {
    var archive: ServedArchive
    var generation = 0
    /// When ``ServedArchive/hasChanged`` was last asked.
    var lastCheck: ContinuousClock.Instant?
    /// A change was seen and the archive is not reopened yet.
    var changeSeen = false
    /// When the last reopen after a change failed (the old version is still served).
    var lastFailedReopen: ContinuousClock.Instant?
    /// A request is reopening the archive after a change.
    var reopenUnderWay = false
  }

  /// How often a local archive's files are looked at (`stat`), and a failed reopen retried.
  static let checkInterval: Duration = .seconds(1)

  private let state: Mutex<Current>

  init(_ archive: ServedArchive) { state = Mutex(Current(archive: archive)) }

  /// The archive as currently opened, and its generation (bumped by every reopen).
  var current: (archive: ServedArchive, generation: Int) { state.withLock { ($0.archive, $0.generation) } }

  /// Whether the archive's files changed on disk and a reopen is due: asks
  /// ``ServedArchive/hasChanged`` at most once per ``checkInterval``; once a change is seen,
  /// `true` until a reopen succeeds, except while one is under way and within
  /// ``checkInterval`` of a failed one (the version opened before is served meanwhile).
  func reopenIsDue(now: ContinuousClock.Instant = .now) -> Bool {
    let probe: ServedArchive.ChangeProbe? = state.withLock { current in
      guard let probe = current.archive.hasChanged, !current.changeSeen else { return nil }
      if let last = current.lastCheck, now - last < Self.checkInterval { return nil }
      current.lastCheck = now
      return probe
    }
    if let probe, probe() { state.withLock { $0.changeSeen = true } }
    return state.withLock { Self.isDue($0, now: now) }
  }

  /// ``reopenIsDue(now:)``, and if so, claims the reopen for the caller (others see it under
  /// way); the caller then calls ``reopen(after:)``, and ``reopenFailed(now:)`` if it throws.
  func claimReopen(now: ContinuousClock.Instant = .now) -> Bool {
    guard reopenIsDue(now: now) else { return false }
    return state.withLock { current in
      guard Self.isDue(current, now: now) else { return false }
      current.reopenUnderWay = true
      return true
    }
  }

  /// Whether a change on disk was seen and no reopen has succeeded since.
  var hasUnopenedChange: Bool { state.withLock { $0.changeSeen && !$0.reopenUnderWay } }

  /// Notes that a reopen after a change failed, so that the next try waits ``checkInterval``.
  func reopenFailed(now: ContinuousClock.Instant = .now) {
    state.withLock {
      $0.lastFailedReopen = now
      $0.reopenUnderWay = false
    }
  }

  private static func isDue(_ current: Current, now: ContinuousClock.Instant) -> Bool {
    guard current.changeSeen, !current.reopenUnderWay else { return false }
    guard let failed = current.lastFailedReopen else { return true }
    return now - failed >= checkInterval
  }

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
      current.changeSeen = false
      current.lastFailedReopen = nil
      current.reopenUnderWay = false
      current.lastCheck = .now
      return old
    }
    if let stale, let cached = stale.cotar.index.source as? BlockCacheSource {
      await cached.cache.purge(owner: cached.owner)
    }
    return true
  }
}
