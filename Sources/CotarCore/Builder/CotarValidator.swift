/// The outcome of cross-checking a tar against an index.
public struct ValidationReport: Sendable {
  /// Paths the tar says should be indexed (unique, last occurrence wins).
  public var indexedPaths = 0
  /// Filled slots found in the index.
  public var filledSlots = 0
  /// One line per problem found (at most ``CotarValidator/maximumProblems``).
  public var problems: [String] = []
  /// Problems found beyond those listed.
  public var unlistedProblems = 0

  /// Whether the index matches the tar exactly.
  public var isValid: Bool { problems.isEmpty && unlistedProblems == 0 }
}

/// Checks that an index describes a tar exactly (what `cotar validate` runs).
public enum CotarValidator {
  /// Problems listed in a report before the rest are only counted.
  public static let maximumProblems = 100
  /// Indexes up to this size (64 MiB) are loaded into memory for validation; larger ones
  /// are read in chunks.
  public static let residentLimit: UInt64 = 64 << 20

  /// Scans `tar` and checks every indexed path resolves to its exact offset and size, and
  /// that the index has no other filled slots.
  ///
  /// - Parameters:
  ///   - tar: the archive.
  ///   - index: the index to check; loaded into memory once when it is at most
  ///     ``residentLimit`` bytes, else read in chunks. Header and footer must agree.
  ///   - scanOptions: read-ahead and extended-header limits for the tar scan.
  /// - Returns: the report; a mismatch is a problem in the report, not a thrown error.
  /// - Throws: `CotarError` when the tar itself cannot be read or parsed, or `.corruptIndex`
  ///   when the index header and footer differ.
  public static func validate(
    tar: any RangeSource, index: CotarIndex, scanOptions: TarScanner.Options = .init()
  ) async throws -> ValidationReport {
    struct Expected {
      var headerOffset: UInt64
      var entry: CotarEntry
    }
    var expected: [UInt64: Expected] = [:]
    var report = ValidationReport()
    func problem(_ text: String) {
      if report.problems.count < maximumProblems { report.problems.append(text) } else { report.unlistedProblems += 1 }
    }
    let scanner = TarScanner(source: tar, options: scanOptions)
    var symlinks: Set<UInt64> = []
    _ = try await scanner.scan { member in
      let hash = PathHash.fnv1a64(bytes: member.pathBytes)
      guard member.kind.isIndexed else {
        // A member of any other kind replaces the earlier ones of its path (SPEC §6); only a
        // file or hard link ends a path's being a symlink, as in the builder.
        if member.kind == .symbolicLink { symlinks.insert(hash) }
        expected[hash] = nil
        return
      }
      if member.kind == .hardLink {
        // The first spelling of the link name that names a member decides (SPEC §6).
        let targetHash = LinkTargetSpelling.spellings(of: member.linkTargetBytes ?? []).lazy
          .map { PathHash.fnv1a64(bytes: $0) }
          .first { symlinks.contains($0) || expected[$0] != nil }
        if let targetHash, symlinks.contains(targetHash) {
          // A hard link to a symlink is not indexed (SPEC §6).
          symlinks.insert(hash)
          expected[hash] = nil
          return
        }
        guard let targetHash, let target = expected[targetHash] else {
          problem("'\(member.path)' (header at \(member.headerOffset)): hard link to '\(member.linkTarget ?? "")', which does not appear earlier as a file")
          return
        }
        expected[hash] = Expected(headerOffset: member.headerOffset, entry: target.entry)
      } else {
        expected[hash] = Expected(
          headerOffset: member.headerOffset, entry: CotarEntry(offset: member.dataOffset, size: member.size))
      }
      symlinks.remove(hash)
    }
    report.indexedPaths = expected.count
    // Small indexes are loaded once; a large one is probed in place and counted in chunks,
    // so memory stays bounded whatever slot count the index claims.
    let loaded = index.header.indexSize <= residentLimit ? try await index.loadedIntoMemory() : index
    for (hash, want) in expected.sorted(by: { $0.value.headerOffset < $1.value.headerOffset }) {
      let found = try await loaded.lookup(hash: hash)
      guard found != want.entry else { continue }
      let path = (try? await scanner.entry(atHeaderOffset: want.headerOffset).path) ?? "0x\(String(hash, radix: 16))"
      if let found {
        problem("'\(path)': index says offset \(found.offset) size \(found.size), tar has offset \(want.entry.offset) size \(want.entry.size)")
      } else {
        problem("'\(path)' (data at \(want.entry.offset), \(want.entry.size) bytes) is not in the index")
      }
    }
    var filled = 0
    var dirtyEmptySlots: [UInt64] = []
    try await loaded.forEachSlotChunk { firstSlot, bytes in
      bytes.withUnsafeBytes { raw in
        for index in 0..<(raw.count / CotarFormat.recordSize) {
          let base = index * CotarFormat.recordSize
          if raw.loadUnaligned(fromByteOffset: base, as: UInt64.self) != 0 {
            filled += 1
          } else if raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self) != 0 {
            dirtyEmptySlots.append(firstSlot + UInt64(index))
          }
        }
      }
    }
    report.filledSlots = filled
    for slot in dirtyEmptySlots {
      // SPEC §4: an empty slot's offset and size MUST be 0.
      let byte = UInt64(CotarFormat.headerSize) + slot * UInt64(CotarFormat.recordSize)
      problem("slot \(slot) (index byte \(byte)) is empty (hash 0) but its offset or size is not 0")
    }
    if report.filledSlots != report.indexedPaths {
      problem("index has \(report.filledSlots) filled slots but the tar has \(report.indexedPaths) indexed paths")
    }
    return report
  }
}
