import ArgumentParser
import CotarWriter

/// A byte count given on the command line: bytes (`65536`) or a size with a unit (`64KiB`,
/// `4MiB`, `1GiB`; `K`, `M`, `G` are powers of 1000), as `--shard-size` and `--seek-spacing`
/// take it.
struct ByteCount: ExpressibleByArgument, Sendable, Equatable {
  /// The number of bytes.
  var bytes: UInt64

  /// A count of `bytes`.
  init(_ bytes: UInt64) { self.bytes = bytes }

  /// Parses `argument` with the units of ``ByteSize``; `nil` (a usage error) when it is not a size.
  init?(argument: String) {
    guard let bytes = try? ByteSize.parse(argument) else { return nil }
    self.bytes = bytes
  }

  /// The default as help shows it: with a binary unit when it is a whole number of them.
  var defaultValueDescription: String {
    for (unit, size) in [("GiB", UInt64(1) << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
      return "\(bytes / size)\(unit)"
    }
    return String(bytes)
  }
}
