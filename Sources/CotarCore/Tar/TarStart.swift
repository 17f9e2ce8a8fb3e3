/// The start of a file scanned as a tar whose first block is not a member header: a file of
/// another format recognised further in (an ISO 9660 image, whose first 32 KiB are zero), or
/// a file that starts with an end-of-archive marker but holds data after it (SPEC §6).
enum TarStart {
  /// Checks a file whose first block is `firstBlock`: returns when it is a tar header, or a
  /// zero block followed by zeros only (an empty tar) or by Cotar's own index or name table
  /// (a `.tar.co` of an empty tar); reads at most ``ForeignFormat/headLength`` bytes from the
  /// start (`buffered`, the bytes already read from offset 0, when they cover them).
  ///
  /// - Throws: `CotarError` `.invalidTar`: at offset 0 for a recognised format, at the
  ///   first non-zero byte for data after a leading end-of-archive marker.
  static func check(firstBlock: [UInt8], buffered: [UInt8], source: any RangeSource, totalSize: UInt64) async throws {
    guard firstBlock.count == TarHeader.blockSize else { return }
    let isZero = firstBlock.withUnsafeBytes { TarHeader.isZeroBlock($0) }
    if !isZero, firstBlock.withUnsafeBytes({ (try? TarHeader.verifyChecksum($0, offset: 0)) != nil }) { return }
    let length = min(totalSize, UInt64(ForeignFormat.headLength))
    let head = UInt64(buffered.count) >= length ? Array(buffered.prefix(Int(length))) : try await source.read(0..<length)
    if let format = ForeignFormat.ofFile(startingWith: head) { throw format.error(for: source.identity) }
    guard isZero, let data = head.firstIndex(where: { $0 != 0 }), try await !endsWithCotarMetadata(source, totalSize) else {
      return
    }
    throw CotarError(
      .invalidTar,
      "\(source.identity) is not a tar: it starts with an end-of-archive marker (a zero block) but holds data after it (a non-zero byte at \(data)); GNU tar reads members after zero blocks only with --ignore-zeros",
      offset: UInt64(data), source: source.identity)
  }

  /// Whether `source` ends with a Cotar v2 index (a `.tar.co`) or a name table's trailer (a
  /// `.tar.co` read up to its index): the data after an empty tar's marker is then Cotar's.
  private static func endsWithCotarMetadata(_ source: any RangeSource, _ totalSize: UInt64) async throws -> Bool {
    let trailer = UInt64(NameTableFormat.trailerSize)
    if totalSize >= trailer, try await source.read((totalSize - trailer)..<totalSize).starts(with: NameTableFormat.magic) {
      return true
    }
    return try await CotarIndex.tarDataEnd(of: source) != nil
  }
}
