import CotarCore
import CotarWriter
import CotarTestSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One file of the generated corpus: its path and where its data lies in the tar.
struct CorpusEntry {
  /// `tiles/z/x/y.pbf`.
  var path: String
  /// Offset of the first data byte in the tar (a multiple of 512).
  var dataOffset: UInt64
  /// Data size in bytes (100...4096).
  var size: Int
}

/// The deterministic corpus: a tar of `entries` tile-like files whose paths, sizes and bytes
/// all derive from `seed`.
///
/// The layout (paths, sizes, offsets) is computed in memory on every run, which is cheap;
/// the tar itself is written only when the sidecar `<tar>.params` does not already describe
/// the same parameters. A `.tar.co` (tar followed by its Cotar index) and a `.tar.index`
/// sidecar are written beside it by ``prepareIndexedCopies()``.
struct Corpus {
  /// Index options for the corpus: packing 25 % and @cotar/builder's library max search (256).
  /// The CLI's max search of 50 refuses some random corpora (for example 2,000 entries with
  /// seed 42 has a probe run of 51), which says nothing about speed.
  static let indexOptions = CotarIndexBuilder.Options(packing: 25, maxSearch: 256)

  /// Number of files.
  let entryCount: Int
  /// Seed of every random choice.
  let seed: UInt64
  /// Directory holding the files.
  let directory: String
  /// The files, in archive order.
  let entries: [CorpusEntry]
  /// Size of the tar in bytes (including the two end-of-archive blocks).
  let tarSize: UInt64

  /// Smallest and largest file size.
  static let sizeRange = 100...4096
  /// Format version of the generated data; bump to invalidate existing corpora.
  static let generatorVersion = 1

  /// Path of the plain tar.
  var tarPath: String { "\(directory)/corpus-\(entryCount)-\(seed).tar" }
  /// Path of the tar with its index appended.
  var cotarPath: String { tarPath + ".co" }
  /// Path of the sidecar index.
  var indexPath: String { tarPath + ".index" }
  private var paramsPath: String { tarPath + ".params" }
  private var parameterText: String {
    "generator=\(Self.generatorVersion) entries=\(entryCount) seed=\(seed) sizes=\(Self.sizeRange) tarSize=\(tarSize)\n"
  }

  /// Computes the layout of the corpus (no I/O).
  init(entryCount: Int, seed: UInt64, directory: String) {
    self.entryCount = entryCount
    self.seed = seed
    self.directory = directory
    var random = SplitMix64(seed: seed)
    var seen = Set<UInt64>()
    seen.reserveCapacity(entryCount)
    var entries: [CorpusEntry] = []
    entries.reserveCapacity(entryCount)
    var offset: UInt64 = 0
    // Zoom levels 10...18 hold far more tiles than any corpus needs, so picks rarely repeat.
    while entries.count < entryCount {
      let z = 10 + Int(random.next() % 9)
      let x = Int(random.next() % (1 << UInt64(z)))
      let y = Int(random.next() % (1 << UInt64(z)))
      let key = UInt64(z) << 58 | UInt64(x) << 29 | UInt64(y)
      guard seen.insert(key).inserted else { continue }
      let span = UInt64(Self.sizeRange.count)
      let size = Self.sizeRange.lowerBound + Int(random.next() % span)
      offset += 512
      entries.append(CorpusEntry(path: "tiles/\(z)/\(x)/\(y).pbf", dataOffset: offset, size: size))
      offset += (UInt64(size) + 511) & ~511
    }
    self.entries = entries
    self.tarSize = offset + 1024
  }

  /// Whether the files on disk were written with these parameters.
  func isOnDisk() -> Bool {
    guard let text = try? readSmallFile(paramsPath) else { return false }
    return text == parameterText && fileSize(tarPath) == tarSize && fileSize(cotarPath) != nil
      && fileSize(indexPath) != nil
  }

  /// Writes the tar, the sidecar index and the `.tar.co`, unless they already exist with
  /// these parameters.
  ///
  /// - Returns: whether anything was written.
  /// - Throws: `BenchError` or `CotarError` on I/O failure.
  @discardableResult
  func prepare() async throws -> Bool {
    if isOnDisk() { return false }
    try makeDirectory(directory)
    unlink(paramsPath)
    try writeTar()
    let built = try await CotarIndexBuilder.build(tar: FileSource(path: tarPath), options: Corpus.indexOptions)
    let sidecar = try AtomicFileWriter(destination: indexPath, overwrite: true)
    try sidecar.write(built.index.bytes)
    try sidecar.commit()
    let combined = try AtomicFileWriter(destination: cotarPath, overwrite: true)
    try await combined.copy(from: FileSource(path: tarPath), range: 0..<tarSize)
    try combined.write(built.index.bytes)
    try combined.commit()
    try writeSmallFile(paramsPath, parameterText)
    return true
  }

  /// Writes the ustar archive: for each entry a header and pseudo-random data, zero padded,
  /// then two zero blocks.
  private func writeTar() throws {
    let output = try OutputFile(path: tarPath)
    var random = SplitMix64(seed: seed ^ 0xDA7A_DA7A_DA7A_DA7A)
    var block = [UInt8](repeating: 0, count: 512 + 4608)
    for entry in entries {
      let padded = (entry.size + 511) & ~511
      block.withUnsafeMutableBytes { raw in
        for index in 0..<(512 + padded) { raw[index] = 0 }
        UstarHeader.write(path: entry.path, size: entry.size, into: raw)
        var index = 512
        while index < 512 + entry.size {
          let word = random.next()
          let count = min(8, 512 + entry.size - index)
          withUnsafeBytes(of: word) { bytes in
            for byte in 0..<count { raw[index + byte] = bytes[byte] }
          }
          index += count
        }
      }
      try output.append(block, count: 512 + padded)
    }
    try output.append([UInt8](repeating: 0, count: 1024), count: 1024)
    try output.close()
  }
}

/// Builds 512-byte POSIX ustar headers for regular files (mode 0644, uid/gid 0, mtime 0).
enum UstarHeader {
  /// Writes a header for a regular file `path` (at most 100 bytes) of `size` bytes into the
  /// first 512 bytes of `block`, which must be zeroed, with a correct checksum.
  static func write(path: String, size: Int, into block: UnsafeMutableRawBufferPointer) {
    func put(_ text: String, at offset: Int) {
      for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
    }
    func octal(_ value: Int, width: Int) -> String {
      let digits = String(value, radix: 8)
      return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
    }
    precondition(path.utf8.count <= 100, "corpus paths fit the ustar name field")
    put(path, at: 0)
    put(octal(0o644, width: 8), at: 100)
    put(octal(0, width: 8), at: 108)
    put(octal(0, width: 8), at: 116)
    put(octal(size, width: 12), at: 124)
    put(octal(0, width: 12), at: 136)
    put("        ", at: 148)
    block[156] = UInt8(ascii: "0")
    put("ustar", at: 257)  // followed by NUL: POSIX ustar
    put("00", at: 263)
    put("root", at: 265)
    put("root", at: 297)
    var sum = 0
    for index in 0..<512 { sum += Int(block[index]) }
    put(octal(sum, width: 7), at: 148)  // six digits, NUL, space
    block[154] = 0
    block[155] = 0x20
  }
}
