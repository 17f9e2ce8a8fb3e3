import CotarCore

/// Tar archives built in memory for tests, with their indexes.
public struct TestArchive: Sendable {
  /// The tar bytes (ustar, ending with two zero blocks).
  public var tar: [UInt8]
  /// The serialized index.
  public var index: [UInt8]
  /// Every member: path and content.
  public var files: [(path: String, bytes: [UInt8])]

  /// The `.tar.co` bytes: tar followed by index.
  public var combined: [UInt8] { tar + index }

  /// Builds an archive of `count` files named `dir<k>/file<i>.txt`, whose contents are
  /// `contentSize(i)` bytes of a pattern derived from `i` (default: 1 to 700 bytes; some empty).
  public static func make(
    count: Int, contentSize: @Sendable (Int) -> Int = { $0 % 97 == 0 ? 0 : 1 + ($0 * 37) % 700 }
  ) async throws -> TestArchive {
    var files: [(path: String, bytes: [UInt8])] = []
    files.reserveCapacity(count)
    for i in 0..<count {
      let size = contentSize(i)
      let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i &* 7 &+ 1) }
      files.append(("dir\(i % 100)/file\(i).txt", bytes))
    }
    let tar = TarBytes.make(files)
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar))
    return TestArchive(tar: tar, index: built.index.bytes, files: files)
  }
}

/// A minimal ustar writer for test data.
public enum TarBytes {
  /// The tar bytes for `files` (regular files, names under 100 bytes).
  public static func make(_ files: [(path: String, bytes: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(files.reduce(1024) { $0 + 512 + ($1.bytes.count + 511) / 512 * 512 })
    for file in files {
      out += header(path: file.path, size: file.bytes.count)
      out += file.bytes
      out += [UInt8](repeating: 0, count: (512 - file.bytes.count % 512) % 512)
    }
    out += [UInt8](repeating: 0, count: 1024)
    return out
  }

  static func header(path: String, size: Int) -> [UInt8] {
    var block = [UInt8](repeating: 0, count: 512)
    func put(_ text: String, at offset: Int) {
      for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
    }
    func octal(_ value: Int, width: Int) -> String {
      let digits = String(value, radix: 8)
      return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
    }
    put(path, at: 0)
    put(octal(0o644, width: 8), at: 100)
    put(octal(0, width: 8), at: 108)
    put(octal(0, width: 8), at: 116)
    put(octal(size, width: 12), at: 124)
    put(octal(0, width: 12), at: 136)
    put("        ", at: 148)
    block[156] = UInt8(ascii: "0")
    put("ustar", at: 257)
    put("00", at: 263)
    let sum = block.reduce(0) { $0 + Int($1) }
    put(octal(sum, width: 7), at: 148)
    block[154] = 0
    block[155] = 0x20
    return block
  }
}

extension TestArchive {
  /// The home slot of `path` in this archive's index.
  public func homeSlot(of path: String) -> UInt64 {
    let slots = UInt64((index.count - 16) / 16)
    return slots == 0 ? 0 : PathHash.fnv1a64(path) % slots
  }

  /// A non-empty file whose home slot is among the first slots of the table, so its window
  /// is never part of a speculative read of the index's tail.
  public var fileAtTableStart: (path: String, bytes: [UInt8]) {
    files.filter { !$0.bytes.isEmpty }.min { homeSlot(of: $0.path) < homeSlot(of: $1.path) } ?? files[0]
  }
}
