// Fuzz target: the shard manifest reader (`ShardManifest(parsing:)`, with its JSON parser).
//
// Input: JSON bytes, then (after a NUL, if any) newline-separated paths to route.
//
// Invariants checked beyond "no crash":
// - a rejection is `.invalidArgument`;
// - an accepted manifest has plain shard names and sorted, disjoint path ranges;
// - it serializes to text that parses back to the same shards, and serializing is stable;
// - `shardIndex(for:)` finds each shard by its first and last path, and for any path
//   returns a shard whose range holds it, or `nil` when no shard's range does.

func lessOrEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool { !b.lexicographicallyPrecedes(a) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShardManifest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let all = FuzzInput(data, size).rest
  let split = all.firstIndex(of: 0) ?? all.count
  let json = Array(all[..<split])
  let paths = all[min(split + 1, all.count)...].split(separator: 0x0A, omittingEmptySubsequences: false).prefix(16).map { Array($0) }
  let manifest: ShardManifest
  do {
    manifest = try ShardManifest(parsing: json)
  } catch {
    invariant(error.code == .invalidArgument, "rejected with \(error.code)")
    return 0
  }
  var previous: ShardManifest.Shard?
  for shard in manifest.shards {
    invariant(!shard.name.isEmpty && !shard.name.contains("/") && shard.name != "." && shard.name != "..", "shard name '\(shard.name)'")
    invariant(lessOrEqual(shard.firstPath, shard.lastPath), "shard \(shard.name) has last < first")
    if let previous { invariant(previous.lastPath.lexicographicallyPrecedes(shard.firstPath), "ranges overlap") }
    previous = shard
  }
  let again: ShardManifest
  do {
    again = try ShardManifest(parsing: manifest.serialized())
  } catch {
    fatalError("invariant violated: a serialized manifest does not parse: \(error)")
  }
  invariant(again.shardSizeLimit == manifest.shardSizeLimit && again.shards.count == manifest.shards.count, "round trip changed the manifest")
  for (a, b) in zip(manifest.shards, again.shards) {
    invariant(
      a.name == b.name && a.index == b.index && a.size == b.size && a.entries == b.entries && a.members == b.members
        && a.sha256 == b.sha256 && a.firstPath == b.firstPath && a.lastPath == b.lastPath,
      "round trip changed shard \(a) to \(b)")
  }
  invariant(again.serialized() == (try? ShardManifest(parsing: again.serialized()))?.serialized(), "serializing is not stable")
  for (position, shard) in manifest.shards.enumerated() {
    invariant(manifest.shardIndex(for: shard.firstPath) == position, "first path of shard \(position) not found")
    invariant(manifest.shardIndex(for: shard.lastPath) == position, "last path of shard \(position) not found")
  }
  for path in paths {
    let holder = manifest.shards.firstIndex { lessOrEqual($0.firstPath, path) && lessOrEqual(path, $0.lastPath) }
    invariant(manifest.shardIndex(for: path) == holder, "shardIndex(\(path)) = \(String(describing: manifest.shardIndex(for: path))), holder \(String(describing: holder))")
  }
  return 0
}
