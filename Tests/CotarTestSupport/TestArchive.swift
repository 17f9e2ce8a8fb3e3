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

/// The tar bytes of a list of regular files (names under 100 bytes).
public enum TarBytes {
  /// The tar bytes for `files`, ending with two zero blocks.
  public static func make(_ files: [(path: String, bytes: [UInt8])]) -> [UInt8] {
    var tar = TestTar()
    for file in files { tar.add(file.path, file.bytes) }
    return tar.finished
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
