import CotarCore

/// Progress of a long write, for a terminal progress line.
public struct WriteProgress: Sendable {
  /// Members written so far.
  public var members: Int
  /// Members to write in total.
  public var totalMembers: Int
  /// Data bytes written so far.
  public var bytes: UInt64
}

/// Writes reproducible tar archives (`cotar tar`): members sorted bytewise by path, mtime 0,
/// uid/gid 0, empty owner names, ustar with PAX only where needed, identical contents stored
/// once, optionally followed by the Cotar index (`.tar.co`) and/or a `.tar.index` sidecar.
///
/// The same inputs always give the same bytes, whatever order the files were created in.
public enum ReproducibleTar {
  /// What to write.
  public struct Options: Sendable {
    /// Replace existing outputs.
    public var overwrite = false
    /// Append the index after the tar (a `.tar.co`).
    public var combined = false
    /// Also write `OUTPUT.index`.
    public var sidecar = false
    /// Index build options.
    public var index = CotarIndexBuilder.Options()
    /// Also write the name table (SPEC §12): before the index in a `.tar.co`, or as
    /// `OUTPUT.names` beside the sidecar index of a plain tar. Needs `combined` or `sidecar`.
    public var names = false

    /// Creates options.
    public init(overwrite: Bool = false, combined: Bool = false, sidecar: Bool = false, index: CotarIndexBuilder.Options = .init()) {
      self.overwrite = overwrite
      self.combined = combined
      self.sidecar = sidecar
      self.index = index
    }
  }

  /// What was written.
  public struct Summary: Sendable {
    /// Members written (files, links, directories).
    public var members: Int
    /// Files stored as hard links to identical content.
    public var deduplicated: Int
    /// Data bytes copied from input files.
    public var dataBytes: UInt64
    /// Size of the tar part (up to and including the end-of-archive marker).
    public var tarBytes: UInt64
    /// Size of the main output file (tar plus index for a `.tar.co`).
    public var outputBytes: UInt64
    /// Index statistics, when an index was written.
    public var index: IndexBuildStats?
    /// The `OUTPUT.names` of an earlier build removed with the new sidecar index, which was
    /// written without a name table (``Options/names`` `false`), when there was one.
    public var removedNames: String?
  }

  /// Writes `plan` to `destination` atomically (temporary file, fsync, rename): a failure
  /// leaves no output and no half-written file.
  ///
  /// - Parameters:
  ///   - plan: members from ``TarPlan/plan(_:digest:)``.
  ///   - destination: the tar or `.tar.co` to create.
  ///   - options: layout and index options.
  ///   - progress: called after each member.
  /// - Returns: counts and index statistics.
  /// - Throws: `CotarError` `.outputExists` (also for an `OUTPUT.names` that a sidecar index
  ///   without a name table would leave stale, unless `options.overwrite`), `.invalidArgument` when an output is one of the
  ///   input files, `.io` (unreadable input, full disk), or index build errors
  ///   (`.limitExceeded` for a file of 4 GiB or more, `.hashCollision`); `CancellationError`
  ///   when the task is cancelled (no output is left).
  public static func write(
    _ plan: TarPlan.Result, to destination: String, options: Options,
    progress: ((WriteProgress) -> Void)? = nil
  ) async throws -> Summary {
    let inputs = OutputGuard.inputs(of: plan)
    try OutputGuard.refuse(destination: destination, sameAs: inputs)
    if options.sidecar { try OutputGuard.refuse(destination: destination + ".index", sameAs: inputs) }
    // A sidecar index without a name table: an OUTPUT.names beside it describes an earlier
    // build; refused unless overwriting, then removed with the index's commit (SPEC §12.5).
    let staleNames = options.sidecar && !options.names && !options.combined ? destination + NameTableFormat.sidecarSuffix : nil
    if let staleNames {
      try OutputGuard.refuse(destination: staleNames, sameAs: inputs)
      try OutputGuard.refuseStaleNames(staleNames, overwrite: options.overwrite)
    }
    let output = try AtomicFileWriter(destination: destination, overwrite: options.overwrite)
    let sidecar = options.sidecar ? try AtomicFileWriter(destination: destination + ".index", overwrite: options.overwrite) : nil
    var namesWriter: AtomicFileWriter?
    if options.names, options.sidecar, !options.combined {
      try OutputGuard.refuse(destination: destination + NameTableFormat.sidecarSuffix, sameAs: inputs)
      namesWriter = try AtomicFileWriter(destination: destination + NameTableFormat.sidecarSuffix, overwrite: options.overwrite)
    }
    var summary = try await write(plan, into: output, options: options, progress: progress) { names, index in
      if let names, let namesWriter {
        try namesWriter.write(names)
        try namesWriter.commit()
      }
      if let index { try sidecar?.write(index) }
    }
    try output.commit()
    if let sidecar {
      if let staleNames {
        if try sidecar.commit(removing: staleNames) { summary.removedNames = staleNames }
      } else {
        try sidecar.commit()
      }
    }
    return summary
  }

  /// Writes `plan` to any ``TarOutput`` (standard output, say) in one pass: the tar, then with
  /// `options.combined` the name table and the index. Nothing is committed or made durable:
  /// that is the caller's. `extras` receives the name table (when `options.names` and not
  /// combined) and the index bytes (when `options.sidecar`), for writing beside.
  ///
  /// - Throws: as ``write(_:to:options:progress:)``.
  public static func write(
    _ plan: TarPlan.Result, into output: any TarOutput, options: Options,
    progress: ((WriteProgress) -> Void)? = nil,
    extras: (_ names: [UInt8]?, _ index: [UInt8]?) throws -> Void = { _, _ in }
  ) async throws -> Summary {
    let writer = TarWriter(output: output)
    var builder = (options.combined || options.sidecar) ? try CotarIndexBuilder(options: options.index) : nil
    var paths: [UInt64: [UInt8]] = [:]
    let writeNames = options.names && (options.combined || options.sidecar)
    var nameBuilder = NameTableBuilder()
    try writeMembers(plan.members, with: writer, builder: &builder, paths: &paths, progress: progress, written: { entry in
      if writeNames { nameBuilder.add(entry) }
    })
    let tarBytes = try writer.finish()
    let names = writeNames ? try nameBuilder.build() : nil
    if let names, options.combined { try output.write(names) }
    // A .tar.co holds its table; a plain tar with a sidecar index gets OUTPUT.names.
    var stats: IndexBuildStats?
    var indexBytes: [UInt8]?
    if let builder {
      let built = try await builder.build { headerOffset in paths[headerOffset] ?? [] }
      stats = built.stats
      if options.combined { try output.write(built.bytes) }
      if options.sidecar { indexBytes = built.bytes }
    }
    try extras(options.combined ? nil : names, indexBytes)
    return Summary(
      members: writer.membersWritten, deduplicated: plan.deduplicated, dataBytes: writer.dataBytesWritten,
      tarBytes: tarBytes, outputBytes: output.bytesWritten, index: stats)
  }

  /// Writes members (no end marker), adding each to `builder` and recording its path by
  /// header offset in `paths` (for the builder's duplicate check).
  ///
  /// - Throws: as ``TarWriter/write(_:data:)`` and ``CotarIndexBuilder/add(_:)``;
  ///   `CancellationError` when the task is cancelled (checked before each member).
  public static func writeMembers(
    _ members: [PlannedMember], with writer: TarWriter, builder: inout CotarIndexBuilder?,
    paths: inout [UInt64: [UInt8]], progress: ((WriteProgress) -> Void)? = nil,
    afterEach: ((Int) throws -> Void)? = nil, written: ((TarEntry) -> Void)? = nil
  ) throws {
    for (position, planned) in members.enumerated() {
      try Task.checkCancellation()
      let entry = try writer.write(planned.member, data: planned.data)
      written?(entry)
      // Every member goes to the builder: one that is not indexed still replaces the earlier
      // members of its path (SPEC §6), and its path may be compared with theirs.
      if builder != nil {
        paths[entry.headerOffset] = entry.pathBytes
        try builder?.add(entry)
      }
      progress?(WriteProgress(members: position + 1, totalMembers: members.count, bytes: writer.dataBytesWritten))
      try afterEach?(position)
    }
  }
}
