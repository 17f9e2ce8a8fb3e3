/// What building a `.tar.gz.index` produced.
public struct GzipIndexBuildResult: Sendable {
  /// The whole `.tar.gz.index` file.
  public var bytes: [UInt8]
  /// The v2 index and scan results (offsets in the uncompressed tar).
  public var tar: IndexBuildResult
  /// The header written.
  public var header: GzipIndexHeader
  /// The seek points written.
  public var points: [GzipSeekPoint]
  /// Gzip members in the archive.
  public var members: Int
}

/// Builds the `.tar.gz.index` of a gzip-compressed tar (SPEC §13).
public enum GzipIndexBuilder {
  /// Scans `archive` and builds its index: a first pass inflates every member and records
  /// seek points; a second scans the tar through them (``GzipTarSource``) and builds the v2
  /// index and, when asked, the name table.
  ///
  /// - Parameters:
  ///   - archive: the `.tar.gz` (one member or several concatenated).
  ///   - spacing: uncompressed bytes between seek points (at least 64 KiB, at most 1 GiB).
  ///   - windows: record deflate block boundaries with their windows (`false`: member starts
  ///     only, for archives written with a member every spacing, such as `cotar tar --gzip`).
  ///   - options: packing and max search of the v2 index.
  ///   - names: when given, also build the name table with these options.
  ///   - spoolDirectory: for a remote archive: keep its compressed bytes in an unlinked
  ///     temporary file here during the first pass (when the file system has room for them
  ///     and 256 MiB more), so the second pass reads them locally and the archive is
  ///     transferred once; without room, or `nil`, the second pass reads the archive again.
  /// - Throws: `CotarError` `.invalidArgument` for a spacing out of range; `.invalidTar` or
  ///   `.truncated` naming the compressed offset for bad gzip data, naming the tar offset for
  ///   a bad tar (labelled ``CotarError/OffsetSpace/uncompressedTar``); what the index build
  ///   throws.
  public static func build(
    archive: any RangeSource, spacing: Int = GzipIndexFormat.defaultSpacing, windows: Bool = true, options: CotarIndexBuilder.Options = .init(),
    names: NameTableBuilder.Options? = nil, spoolDirectory: String? = nil, progress: ((ScanProgress) -> Void)? = nil
  ) async throws -> GzipIndexBuildResult {
    guard (64 << 10)...(1 << 30) ~= spacing else {
      throw CotarError(.invalidArgument, "the seek-point spacing must be from 64 KiB to 1 GiB, got \(spacing)")
    }
    var scanner = GzipSeekPointScanner(source: archive, spacing: UInt64(spacing), windows: windows)
    scanner.spoolDirectory = spoolDirectory
    let pass = try await scanner.scan()
    // The same bytes, read locally, under the archive's name (errors name the archive).
    let compressed: any RangeSource = try pass.spool?.source(identity: archive.identity) ?? archive
    guard pass.points.count <= Int(GzipIndexFormat.maximumPoints) else {
      throw CotarError(.limitExceeded, "\(pass.points.count) seek points; use a larger spacing", source: archive.identity)
    }
    var header = GzipIndexHeader(
      compressedSize: pass.compressedSize, uncompressedSize: pass.uncompressedSize, pointCount: UInt32(pass.points.count),
      spacing: UInt32(spacing), windowsLength: UInt64(pass.windows.count), v2Offset: 0, firstBlockCRC: pass.firstBlockCRC,
      lastBlockCRC: pass.lastBlockCRC, pointTableCRC: 0)
    let table = header.serializeTable(pass.points)
    header.pointTableCRC = CRC32.checksum(table)
    // The tar scan reads through the seek points, whose windows are still in memory.
    let windows = MemorySource(pass.windows, identity: archive.identity + " (windows)")
    let windowsFile = PaddedSource(prefixLength: header.windowsOffset, base: windows)
    let tar = GzipTarSource(compressed: compressed, indexSource: windowsFile, header: header, points: pass.points)
    var scan = TarScanner.Options()
    scan.readAheadBytes = 4 << 20
    scan.adaptiveMinimumReadAheadBytes = 64 << 10
    let result: IndexBuildResult
    do {
      result = try await CotarIndexBuilder.build(
        tar: tar, options: options, scanOptions: scan, progress: progress, names: names)
    } catch let error as CotarError {
      // The scan's own offsets (a bad tar header) are in the uncompressed tar; the gzip
      // reader's are labelled already.
      throw error.labellingOffset(.uncompressedTar)
    }
    let namesBytes = result.names ?? []
    header.v2Offset = header.windowsOffset + UInt64(pass.windows.count) + UInt64(namesBytes.count)
    var bytes = header.serialized()
    bytes.reserveCapacity(Int(header.v2Offset) + result.index.bytes.count)
    bytes += table
    bytes += pass.windows
    bytes += namesBytes
    bytes += result.index.bytes
    return GzipIndexBuildResult(bytes: bytes, tar: result, header: header, points: pass.points, members: pass.members)
  }
}

/// `base` seen `prefixLength` bytes further on: the windows of an index still being built,
/// at the offsets they will have in the file.
struct PaddedSource: RangeSource {
  let prefixLength: UInt64
  let base: any RangeSource
  var identity: String { base.identity }
  func size() async throws -> UInt64 { prefixLength + (try await base.size()) }
  func read(_ range: Range<UInt64>) async throws -> [UInt8] {
    guard range.lowerBound >= prefixLength else {
      throw CotarError(.invalidArgument, "read before the windows", offset: range.lowerBound, source: identity)
    }
    return try await base.read((range.lowerBound - prefixLength)..<(range.upperBound - prefixLength))
  }
}
