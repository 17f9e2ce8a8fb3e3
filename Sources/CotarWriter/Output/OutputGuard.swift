import CotarCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Checks that a writer would not replace one of its own inputs (`cotar index a.tar -o a.tar
/// --force`, a `cotar tar` output inside the tree it archives).
public enum OutputGuard {
  /// The device and inode of the object at `path` (symbolic links followed), or `nil` when
  /// there is none.
  public static func identity(of path: String) -> FileIdentity? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
  }

  /// Refuses to write `destination` when it is the same file as one of `inputs`.
  ///
  /// - Throws: `CotarError` `.invalidArgument` naming the destination.
  public static func refuse(destination: String, sameAs inputs: Set<FileIdentity>) throws {
    guard !inputs.isEmpty, let existing = identity(of: destination), inputs.contains(existing) else { return }
    throw CotarError(
      .invalidArgument, "the output is also an input; writing it would destroy what is being read. Choose another output",
      source: destination)
  }

  /// The identities of the files a plan reads.
  public static func inputs(of plan: TarPlan.Result) -> Set<FileIdentity> {
    var identities = Set<FileIdentity>()
    for member in plan.members {
      if case .checkedFile(_, let identity) = member.data { identities.insert(identity) }
    }
    return identities
  }
}
