/// How a hard link's link name is matched to an earlier member (SPEC §6): GNU tar extracts a
/// hard link with link(2), so `./a`, `a`, `a/` and `.//a` all name the file the member `a`
/// (or `./a`) was extracted to. The index hashes paths exactly as stored (§5), so a link name
/// is looked up under a few spellings, in order.
public enum LinkTargetSpelling {
  /// The spellings under which a hard link's target `linkName` is looked up, in order: the
  /// link name exactly as stored; then the same path with empty and `.` components removed
  /// (and a leading `/` dropped, as GNU tar drops it from link names); then that path with a
  /// leading `./` (the names of `tar -cf x.tar .`). Duplicates are left out, so a link name
  /// already in normal form gives two spellings (`a`, `./a`); one that normalises to nothing
  /// (`.`, `./`) gives only itself. `..` components are kept as they are.
  public static func spellings(of linkName: [UInt8]) -> [[UInt8]] {
    var spellings = [linkName]
    let normal = normalised(linkName)
    guard !normal.isEmpty else { return spellings }
    for candidate in [normal, [0x2E, 0x2F] + normal] where !spellings.contains(candidate) {
      spellings.append(candidate)
    }
    return spellings
  }

  /// `path` with empty and `.` components removed (no leading or trailing `/`); `..` is kept.
  public static func normalised(_ path: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(path.count)
    for component in path.split(separator: 0x2F, omittingEmptySubsequences: true) where !component.elementsEqual([0x2E]) {
      if !out.isEmpty { out.append(0x2F) }
      out += component
    }
    return out
  }
}
