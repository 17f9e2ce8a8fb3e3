import CotarCore

/// One archive as the server offers it: the opened Cotar, the raw sources behind it, the
/// validators for HTTP caching, and (optionally) the directory listing.
///
/// The server never opens files itself; callers hand in ``RangeSource`` values, so a local
/// `FileSource`, an HTTP range source or anything else plugs in the same way.
public struct ServedArchive: Sendable {
  /// The name used in URLs: `/v1/<name>/file/…` and `/archive/<name>`.
  public let name: String
  /// The name of the sidecar index under `/archive/`, such as `tiles.tar.index`; `nil` for a
  /// `.tar.co`.
  public let indexName: String?
  /// The opened archive.
  public let cotar: Cotar
  /// The source of the tar (or `.tar.co`) bytes, served raw under `/archive/<name>`.
  public let tar: any RangeSource
  /// The sidecar index source, served raw under `/archive/<indexName>`.
  public let sidecar: (any RangeSource)?
  /// The size of ``tar`` in bytes.
  public let tarSize: UInt64
  /// The size of ``sidecar`` in bytes (0 without a sidecar).
  public let sidecarSize: UInt64
  /// The `X.tar.names` sidecar name table of a `.tar` with a sidecar index, served raw under
  /// `/archive/<name>.names`; `nil` when there is none (or it is not a table this reader
  /// knows), and always for a `.tar.co` (which keeps its table inside).
  public let namesSidecar: (any RangeSource)?
  /// The size of ``namesSidecar`` in bytes (0 without one).
  public let namesSidecarSize: UInt64
  /// A short hex tag identifying this version of the archive; the prefix of every ETag.
  public let tag: String
  /// The archive's modification time, sent as `Last-Modified`, when known.
  public let lastModified: HTTPDate?
  /// The directory listing, when built.
  public let listing: ArchiveListing?
  /// Opens this archive again from fresh sources, when it can change under the server (a
  /// remote object): the server calls it when a read fails with `.sourceChanged`.
  public let reopen: Reopener?
  /// Whether the files behind this version changed since it was opened (a local archive
  /// replaced, modified or truncated on disk); the server asks at most once a second and
  /// then opens the new version with ``reopen``. `nil`: never asked (remote archives report
  /// changes through `.sourceChanged` instead).
  public let hasChanged: ChangeProbe?

  /// Opens the archive again from fresh sources (new ETag pins, no cached windows).
  public typealias Reopener = @Sendable () async throws -> ServedArchive
  /// Tells whether an archive's files changed on disk since it was opened (see ``hasChanged``).
  public typealias ChangeProbe = @Sendable () -> Bool

  /// Opens an archive for serving.
  ///
  /// - Parameters:
  ///   - name: the URL name (usually the file name); must not be `file` or `list`.
  ///   - tar: the `.tar.co`, or the `.tar` when `sidecar` is given.
  ///   - sidecar: the separate `.tar.index`, if any.
  ///   - version: text that changes whenever the archive changes (such as inode, size and
  ///     modification time of a local file, or an HTTP ETag); hashed with the identities and
  ///     sizes into ``tag``.
  ///   - lastModified: the modification time for `Last-Modified`, when known.
  ///   - buildListing: build the `/v1/list` listing now: from the name table when the archive
  ///     has one (a few reads), else by scanning the tar headers (one sequential read of the
  ///     headers; leave off for remote archives of many entries without a table).
  ///   - options: how to open the index (for local files, loading it into memory is cheap).
  ///     ``Cotar/OpenOptions/keepSpeculativeRead`` is always off for a served archive: no
  ///     entry is answered from the bytes read at open, so a data read notices a replaced object.
  /// - Throws: `CotarError` from opening the index or scanning the tar; `.invalidArgument`
  ///   for a reserved or empty name.
  public static func open(
    name: String, tar: any RangeSource, sidecar: (any RangeSource)? = nil, version: String = "",
    lastModified: HTTPDate? = nil, buildListing: Bool = true, options: Cotar.OpenOptions = .init()
  ) async throws -> ServedArchive {
    try await open(
      name: name, sources: ArchiveLocation.Sources(tar: tar, index: sidecar.map { .sidecar($0) } ?? .trailing),
      version: version, lastModified: lastModified, buildListing: buildListing, options: options)
  }

  /// Whether `name` can name an archive in URLs (`/v1/<name>/…`, `/archive/<name>`): not
  /// empty, not `file` or `list` (the routes of the first archive), and without `/`.
  public static func isUsableName(_ name: String) -> Bool {
    !name.isEmpty && name != "file" && name != "list" && !name.contains("/")
  }

  /// Opens an archive for serving from sources resolved by ``ArchiveLocation``; a guessed
  /// sidecar that does not exist is dropped.
  ///
  /// - Parameters: as ``open(name:tar:sidecar:version:lastModified:buildListing:options:)``;
  ///   `scanForListing` `false` builds a listing only from a name table, never by a scan;
  ///   `names` is the `X.tar.names` sidecar of a `.tar` with a sidecar index, read for the
  ///   listing when the archive keeps no table of its own (one that does not exist counts as
  ///   no table), and served raw as ``namesSidecar`` when it holds a table.
  /// - Throws: as ``open(name:tar:sidecar:version:lastModified:buildListing:options:)``.
  public static func open(
    name: String, sources: ArchiveLocation.Sources, names: (any RangeSource)? = nil, version: String = "",
    lastModified: HTTPDate? = nil, buildListing: Bool = true, scanForListing: Bool = true, options: Cotar.OpenOptions = .init()
  ) async throws -> ServedArchive {
    let tar = sources.tar
    guard isUsableName(name) else {
      throw CotarError(
        .invalidArgument, "'\(name)' cannot be an archive name in URLs (empty, 'file', 'list' or containing '/'); rename the file",
        source: tar.identity)
    }
    // Every data read goes upstream, so that the next one notices a replaced object (README).
    var options = options
    options.keepSpeculativeRead = false
    let (cotar, sidecar) = try await sources.openReportingSidecar(options: options)
    let tarSize = try await tar.size()
    let sidecarSize = try await sidecar?.size() ?? 0
    // A name table (SPEC §12) gives the listing without reading the tar (a few requests for a
    // remote archive); without one, only a scan does, which `scanForListing` may refuse.
    var table = buildListing ? try await cotar.readableNameTable(speculativeBytes: options.speculativeBytes) : nil
    // The X.tar.names sidecar is opened (a few reads) even when the listing does not need it:
    // it is served raw under /archive/<name>.names only when it holds a table this reader
    // knows. Its errors fail the open only when the listing depends on it (as before).
    var namesTable: NameTable?
    if sidecar != nil, let names {
      let needed = buildListing && table == nil
      namesTable =
        needed
        ? try await sidecarTable(names, speculativeBytes: options.speculativeBytes)
        : try? await sidecarTable(names, speculativeBytes: options.speculativeBytes)
      if needed { table = namesTable }
    }
    let namesSidecar = namesTable == nil ? nil : names
    let namesSidecarSize = try await namesSidecar?.size() ?? 0
    let listing: ArchiveListing? =
      if let table {
        try ArchiveListing(
          entries: try await table.entries(withPrefix: []).lazy.filter { $0.kind == .file || $0.kind == .hardLink }
            .map { (path: $0.pathBytes, mtime: $0.mtime) })
      } else if buildListing && scanForListing {
        // A .tar.gz is scanned through its seek points (SPEC §13), never as compressed bytes.
        try await ArchiveListing.scan(tar: (cotar.data as? GzipTarSource) ?? tar, limit: cotar.dataLimit)
      } else {
        nil
      }
    return ServedArchive(
      name: name, indexName: sidecar.map { _ in name + ".index" }, cotar: cotar, tar: tar, sidecar: sidecar,
      tarSize: tarSize, sidecarSize: sidecarSize, tag: "", lastModified: lastModified, listing: listing,
      namesSidecar: namesSidecar, namesSidecarSize: namesSidecarSize
    ).retagged(version: version)
  }

  /// The table in an `X.tar.names` sidecar, `nil` when it does not exist or is of a version
  /// this reader does not know.
  private static func sidecarTable(_ names: any RangeSource, speculativeBytes: Int) async throws -> NameTable? {
    do {
      return try await NameTable.open(in: names, endingAt: try await names.size(), speculativeBytes: speculativeBytes)
    } catch let error as CotarError where error.code == .notFound || error.code == .unsupportedVersion {
      return nil
    }
  }

  /// A copy whose ``tag`` is derived from `version` (for example an HTTP ETag learnt while
  /// opening), the source identities and the sizes.
  public func retagged(version: String) -> ServedArchive {
    let stamp = [
      tar.identity, String(tarSize), sidecar?.identity ?? "", String(sidecarSize), namesSidecar?.identity ?? "",
      String(namesSidecarSize), version,
    ].joined(separator: "\u{0}")
    return ServedArchive(
      name: name, indexName: indexName, cotar: cotar, tar: tar, sidecar: sidecar, tarSize: tarSize,
      sidecarSize: sidecarSize, tag: String(PathHash.fnv1a64(stamp), radix: 16), lastModified: lastModified,
      listing: listing, namesSidecar: namesSidecar, namesSidecarSize: namesSidecarSize, reopen: reopen,
      hasChanged: hasChanged)
  }

  /// A copy that the server reopens with `reopen` when its source changes: when a read
  /// fails with `.sourceChanged`, or when `hasChanged` (if given) says its files changed.
  public func reopening(with reopen: @escaping Reopener, hasChanged: ChangeProbe? = nil) -> ServedArchive {
    ServedArchive(
      name: name, indexName: indexName, cotar: cotar, tar: tar, sidecar: sidecar, tarSize: tarSize,
      sidecarSize: sidecarSize, tag: tag, lastModified: lastModified, listing: listing, namesSidecar: namesSidecar,
      namesSidecarSize: namesSidecarSize, reopen: reopen, hasChanged: hasChanged ?? self.hasChanged)
  }

  /// Assembles an archive from parts already opened; see ``open(name:tar:sidecar:version:lastModified:buildListing:options:)``.
  /// `namesSidecar` (with its size) is the `X.tar.names` sidecar to serve raw, if any.
  public init(
    name: String, indexName: String?, cotar: Cotar, tar: any RangeSource, sidecar: (any RangeSource)?,
    tarSize: UInt64, sidecarSize: UInt64, tag: String, lastModified: HTTPDate?, listing: ArchiveListing?,
    namesSidecar: (any RangeSource)? = nil, namesSidecarSize: UInt64 = 0, reopen: Reopener? = nil,
    hasChanged: ChangeProbe? = nil
  ) {
    self.namesSidecar = namesSidecar
    self.namesSidecarSize = namesSidecarSize
    self.reopen = reopen
    self.hasChanged = hasChanged
    self.name = name
    self.indexName = indexName
    self.cotar = cotar
    self.tar = tar
    self.sidecar = sidecar
    self.tarSize = tarSize
    self.sidecarSize = sidecarSize
    self.tag = tag
    self.lastModified = lastModified
    self.listing = listing
  }
}
