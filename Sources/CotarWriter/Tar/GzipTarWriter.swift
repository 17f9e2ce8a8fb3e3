import CotarCore

/// A ``TarOutput`` that writes the tar as concatenated gzip members (SPEC §13.5): a member
/// ends at the first tar member boundary after `memberSize` uncompressed bytes, or after
/// twice that inside a large entry's data. Each member is compressed in memory, so memory
/// stays about `2 × memberSize`.
public final class GzipMemberOutput: TarOutput {
  private let file: any TarOutput
  private let memberSize: Int
  private let level: Int32
  private var pending: [UInt8] = []
  /// Uncompressed (tar) bytes written so far.
  public private(set) var bytesWritten: UInt64 = 0
  /// Gzip members written so far.
  public private(set) var members = 0

  /// Writes compressed members to `file`.
  ///
  /// - Parameters:
  ///   - memberSize: uncompressed bytes per member (at least 64 KiB).
  ///   - level: zlib level, 1–9.
  public init(file: any TarOutput, memberSize: Int, level: Int32 = 6) {
    self.file = file
    self.memberSize = max(64 << 10, memberSize)
    self.level = level
  }

  /// Buffers tar bytes, writing members of `memberSize` when a large entry's data passes
  /// twice that.
  ///
  /// - Throws: `CotarError` `.io` from zlib or the file.
  public func write(_ bytes: [UInt8]) throws {
    pending += bytes
    bytesWritten += UInt64(bytes.count)
    while pending.count >= 2 * memberSize { try flush(count: memberSize) }
  }

  /// Called at a tar member boundary: ends the gzip member when it is large enough.
  ///
  /// - Throws: as ``write(_:)``.
  public func memberBoundary() throws {
    if pending.count >= memberSize { try flush(count: pending.count) }
  }

  /// Writes what is buffered as the last member.
  ///
  /// - Throws: as ``write(_:)``.
  public func finish() throws {
    if !pending.isEmpty || members == 0 { try flush(count: pending.count) }
  }

  private func flush(count: Int) throws {
    try file.write(try gzipMember(pending[0..<count], level: level))
    pending.removeSubrange(0..<count)
    members += 1
  }
}

extension ReproducibleTar {
  /// Writes `plan` as a cloud-friendly `.tar.gz` (SPEC §13.5) and, when `options.sidecar`,
  /// its `.tar.gz.index` (member starts only, no windows) as `destination.index`.
  ///
  /// - Parameters:
  ///   - memberSize: uncompressed bytes per gzip member (and seek-point spacing).
  ///   - level: zlib level, 1–9.
  /// - Returns: counts (``Summary/outputBytes`` is the compressed size) and index statistics.
  /// - Throws: as ``write(_:to:options:progress:)``; `.invalidArgument` for `combined`.
  public static func writeGzip(
    _ plan: TarPlan.Result, to destination: String, options: Options, memberSize: Int = GzipIndexFormat.defaultSpacing,
    level: Int32 = 6, progress: ((WriteProgress) -> Void)? = nil
  ) async throws -> (summary: Summary, members: Int) {
    guard !options.combined else {
      throw CotarError(.invalidArgument, "a .tar.gz cannot hold its index; write the sidecar with --index", source: destination)
    }
    let inputs = OutputGuard.inputs(of: plan)
    try OutputGuard.refuse(destination: destination, sameAs: inputs)
    if options.sidecar { try OutputGuard.refuse(destination: destination + GzipIndexFormat.sidecarSuffix, sameAs: inputs) }
    let file = try AtomicFileWriter(destination: destination, overwrite: options.overwrite)
    let output = GzipMemberOutput(file: file, memberSize: memberSize, level: level)
    let writer = TarWriter(output: output)
    var builder: CotarIndexBuilder? = nil
    var paths: [UInt64: [UInt8]] = [:]
    try writeMembers(
      plan.members, with: writer, builder: &builder, paths: &paths, progress: progress,
      afterEach: { _ in try output.memberBoundary() })
    let tarBytes = try writer.finish()
    try output.finish()
    let compressedBytes = file.bytesWritten
    try file.commit()
    var stats: IndexBuildStats?
    if options.sidecar {
      let index = try AtomicFileWriter(destination: destination + GzipIndexFormat.sidecarSuffix, overwrite: options.overwrite)
      let built = try await GzipIndexBuilder.build(
        archive: try FileSource(path: destination), spacing: max(64 << 10, memberSize), windows: false,
        options: options.index, names: options.names ? .init() : nil)
      try index.write(built.bytes)
      try index.commit()
      stats = built.tar.index.stats
    }
    let summary = Summary(
      members: writer.membersWritten, deduplicated: plan.deduplicated, dataBytes: writer.dataBytesWritten,
      tarBytes: tarBytes, outputBytes: compressedBytes, index: stats)
    return (summary, output.members)
  }
}
