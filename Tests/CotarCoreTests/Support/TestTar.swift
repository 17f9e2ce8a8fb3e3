import CotarCore
import CotarTestSupport

/// A small deterministic PRNG (SplitMix64) for reproducible random tests.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Builds an index for `tar` bytes with default options.
func buildIndex(_ tar: [UInt8], options: CotarIndexBuilder.Options = .init()) async throws -> BuiltIndex {
  try await CotarIndexBuilder.build(tar: MemorySource(tar), options: options).index
}
