// Scanning helpers shared by the tar fuzz targets (tar_scanner, gnu_headers).

/// What one scan produced: the entries, and the summary or the error.
struct ScanOutcome: Equatable, Sendable {
  var entries: [TarEntry] = []
  var summary: TarScanSummary?
  var errorCode: CotarError.Code?
  var errorOffset: UInt64?
}

func scanOutcome(_ bytes: [UInt8], readAhead: Int, useSequence: Bool) -> ScanOutcome {
  let result = runBlocking { () async throws -> ScanOutcome in
    var options = TarScanner.Options()
    options.readAheadBytes = readAhead
    options.maximumExtendedHeaderBytes = 1 << 16
    let scanner = TarScanner(source: CheckedSource(bytes), options: options)
    var outcome = ScanOutcome()
    do {
      if useSequence {
        for try await entry in scanner.entries() { outcome.entries.append(entry) }
      } else {
        outcome.summary = try await scanner.scan { outcome.entries.append($0) }
      }
    } catch let error as CotarError {
      outcome.errorCode = error.code
      outcome.errorOffset = error.offset
    }
    return outcome
  }
  switch result {
  case .success(let outcome): return outcome
  case .failure(let error): fatalError("invariant violated: scanner threw a non-CotarError: \(error)")
  }
}

func checkEntries(_ outcome: ScanOutcome, size: Int) {
  let size = UInt64(size)
  var previousData: UInt64?
  var skipped: [String: Int] = [:]
  for (position, entry) in outcome.entries.enumerated() {
    invariant(entry.headerOffset % 512 == 0 && entry.dataOffset % 512 == 0, "unaligned entry \(entry)")
    invariant(entry.headerOffset < entry.dataOffset, "header not before data: \(entry)")
    invariant(entry.dataOffset <= size, "data offset past the input: \(entry)")
    // A member whose data is cut by the end of the file is still yielded (as GNU tar lists
    // it), but only as the last entry of a scan that then reports the truncation.
    let isCutLast = position == outcome.entries.count - 1 && outcome.errorCode == .truncated
    // A sparse member's size is its real (expanded) size, not the bytes it stores.
    let storesItsSize = entry.kind != .sparse
    invariant(
      !storesItsSize || entry.size <= size - entry.dataOffset || isCutLast, "entry data runs past the input: \(entry)")
    if let previousData { invariant(entry.headerOffset >= previousData, "entries out of order: \(entry)") }
    previousData = entry.dataOffset
    let isLink = entry.kind == .hardLink || entry.kind == .symbolicLink
    invariant(isLink == (entry.linkTargetBytes != nil), "link target on a non-link or missing: \(entry)")
    if entry.kind == .hardLink { invariant(entry.size == 0, "hard link with a size: \(entry)") }
    if !entry.kind.isIndexed { skipped[entry.kind.description, default: 0] += 1 }
  }
  if let summary = outcome.summary {
    invariant(summary.members == outcome.entries.count, "summary counts \(summary.members) members, saw \(outcome.entries.count)")
    invariant(summary.skipped == skipped, "summary skipped \(summary.skipped), saw \(skipped)")
    // The end is the zero block or the next header position: block-aligned, and past the
    // input only by the padding an unpadded final member lacks.
    invariant(summary.endOffset % 512 == 0, "end offset \(summary.endOffset) not block-aligned")
    invariant(summary.endOffset <= (size + 511) / 512 * 512, "end offset \(summary.endOffset) past the input (\(size))")
    if let last = outcome.entries.last, last.kind != .sparse {
      invariant(summary.endOffset >= last.dataOffset + last.size, "end offset \(summary.endOffset) inside the last entry")
    }
  }
  if let offset = outcome.errorOffset { invariant(offset <= size, "error offset \(offset) past the input (\(size))") }
}

/// What an index build produced: the index bytes, name table and scan summary, or the error.
struct BuildOutcome: Equatable, Sendable {
  var bytes: [UInt8]?
  /// The name table, for a build asked for one.
  var names: [UInt8]?
  var summary: TarScanSummary?
  var errorCode: CotarError.Code?
  var errorOffset: UInt64?
}

/// Builds the index of `bytes` with `CotarIndexBuilder.build(tar:)` (which parses members of
/// the common shape in place), or, when `general` is set, with every member going through
/// `TarScanner.scan` and `CotarIndexBuilder.add(_:)`; `synchronous` reads from a
/// `MemorySource` (the read-ahead buffer is then reused) instead of a `CheckedSource`;
/// `names` also builds the name table (the general build, from every scanned member).
func buildOutcome(_ bytes: [UInt8], readAhead: Int, general: Bool, synchronous: Bool, names: Bool) -> BuildOutcome {
  let result = runBlocking { () async throws -> BuildOutcome in
    var options = TarScanner.Options()
    options.readAheadBytes = readAhead
    options.maximumExtendedHeaderBytes = 1 << 16
    let source: any RangeSource = synchronous ? MemorySource(bytes) : CheckedSource(bytes)
    var outcome = BuildOutcome()
    do {
      if general {
        var builder = try CotarIndexBuilder()
        var nameBuilder = NameTableBuilder()
        var summary = try await TarScanner(source: source, options: options).scan {
          try builder.add($0)
          if names { nameBuilder.add($0) }
        }
        if builder.hardLinksToSymlinks > 0 {
          summary.skipped[TarEntry.Kind.symbolicLink.description, default: 0] += builder.hardLinksToSymlinks
        }
        let paths = TarScanner(source: source, options: options)
        outcome.bytes = try await builder.build { try await paths.entry(atHeaderOffset: $0).pathBytes }.bytes
        outcome.summary = summary
        if names { outcome.names = try nameBuilder.build() }
      } else {
        let result = try await CotarIndexBuilder.build(tar: source, scanOptions: options, names: names ? .init() : nil)
        outcome.bytes = result.index.bytes
        outcome.names = result.names
        outcome.summary = result.scan
      }
    } catch let error as CotarError {
      outcome.errorCode = error.code
      outcome.errorOffset = error.offset
    }
    return outcome
  }
  switch result {
  case .success(let outcome): return outcome
  case .failure(let error): fatalError("invariant violated: the index build threw a non-CotarError: \(error)")
  }
}
