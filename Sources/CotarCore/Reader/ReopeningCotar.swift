import Synchronization

/// An archive that reopens itself when its source changes, for long-running readers of a
/// remote object that may be replaced (as PMTiles readers do).
///
/// ``withArchive(_:)`` runs an operation on the current ``Cotar``; when it fails with
/// `.sourceChanged` (a new ETag, or a failed `If-Match`), the archive is opened again with
/// the `open` closure — which must create fresh sources, so no pinned ETag or cached window
/// of the old version survives — the old version's cached index windows are purged, and the
/// operation is retried once on the new version. An operation sees one version only, so
/// bytes of two versions are never mixed. Concurrent failures install one new version.
public final class ReopeningCotar: Sendable {
  /// Opens the archive from fresh sources.
  public typealias Opener = @Sendable () async throws -> Cotar

  private struct Current: Sendable {
    var cotar: Cotar
    var generation: Int
    var reopens = 0
  }

  private let opener: Opener
  private let state: Mutex<Current>

  /// Opens the archive with `open` (called again on every reopen).
  ///
  /// - Throws: what `open` throws.
  public init(open: @escaping Opener) async throws {
    self.opener = open
    self.state = Mutex(Current(cotar: try await open(), generation: 0))
  }

  /// The archive as currently opened.
  public var current: Cotar { state.withLock { $0.cotar } }

  /// How often the archive has been reopened.
  public var reopenCount: Int { state.withLock { $0.reopens } }

  /// Runs `body` on the current archive; if it fails with `.sourceChanged`, reopens the
  /// archive and runs `body` once more on the new version.
  ///
  /// - Throws: what `body` throws (the second time, if it was retried), or what reopening throws.
  public func withArchive<T>(_ body: (Cotar) async throws -> T) async throws -> T {
    let (cotar, generation) = state.withLock { ($0.cotar, $0.generation) }
    do {
      return try await body(cotar)
    } catch let error as CotarError where error.code == .sourceChanged {
      return try await body(try await reopen(after: generation))
    }
  }

  /// Reopens the archive unless another caller already did since `generation`; returns the
  /// archive to use.
  ///
  /// - Throws: what the `open` closure throws.
  @discardableResult
  public func reopen(after generation: Int? = nil) async throws -> Cotar {
    let seen = generation ?? state.withLock { $0.generation }
    if let newer = state.withLock({ $0.generation != seen ? $0.cotar : nil }) { return newer }
    let fresh = try await opener()
    let (installed, stale) = state.withLock { current -> (Cotar, Cotar?) in
      guard current.generation == seen else { return (current.cotar, nil) }
      let old = current.cotar
      current.cotar = fresh
      current.generation += 1
      current.reopens += 1
      return (fresh, old)
    }
    if let stale, let cached = stale.index.source as? BlockCacheSource {
      await cached.cache.purge(owner: cached.owner)
    }
    return installed
  }
}
