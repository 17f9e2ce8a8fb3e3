import CotarCore
import CotarTestSupport

/// Builds an index for `tar` bytes with default options.
func buildIndex(_ tar: [UInt8], options: CotarIndexBuilder.Options = .init()) async throws -> BuiltIndex {
  try await CotarIndexBuilder.build(tar: MemorySource(tar), options: options).index
}
