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

  /// Refuses, unless `overwrite`, an existing name-table sidecar `path` that a new index
  /// written without a name table would leave stale beside it (SPEC §12.5): it counts as an
  /// existing output. With `overwrite` the writer removes it with the index's commit
  /// (``AtomicFileWriter/commit(removing:)``).
  ///
  /// - Throws: `CotarError` `.outputExists` naming `path`.
  public static func refuseStaleNames(_ path: String, overwrite: Bool) throws {
    guard !overwrite, (try? Syscall.linkStatus(path)) != nil else { return }
    throw CotarError(
      .outputExists,
      "output exists: the name table of an earlier build, which an index without one would leave stale; pass --force to replace the index and remove it",
      source: path)
  }

  /// Refuses an existing `destination` that is not a regular file, with or without `--force`:
  /// a writer makes a new regular file and renames it over the destination, which would
  /// replace a device, FIFO or socket node (as root, `-o /dev/null --force` would destroy
  /// `/dev/null`) or a symbolic link itself. A symbolic link is neither replaced nor written
  /// through (README, "Output files"). A missing destination, or a regular file, passes.
  ///
  /// - Throws: `CotarError` `.invalidArgument` naming the destination and its kind.
  public static func refuseNonRegular(destination: String) throws {
    guard let info = try? Syscall.linkStatus(destination) else { return }
    let kind = info.st_mode & S_IFMT
    switch kind {
    case S_IFREG:
      return
    case S_IFLNK:
      let target = (try? Syscall.readLink(bytes: Array(destination.utf8))).map { String(decoding: $0, as: UTF8.self) }
      throw CotarError(
        .invalidArgument,
        "the output is a symbolic link\(target.map { " (to '\($0)')" } ?? ""); cotar neither replaces a link nor writes through it, even with --force: give the path of the file it points to, or remove the link",
        source: destination)
    case S_IFDIR:
      throw CotarError(
        .invalidArgument, "the output is a directory, not a regular file; name a file (for example \(destination)/NAME)",
        source: destination)
    default:
      throw CotarError(
        .invalidArgument,
        "the output is \(nodeKind(info.st_mode) ?? fileKindName(info.st_mode)), not a regular file; cotar writes a new file and renames it into place, which would replace that node itself, so it refuses even with --force. To write into it, use standard output and shell redirection (for example cotar get ARCHIVE PATH > \(destination))",
        source: destination)
    }
  }

  /// The kind of an existing node that `--force` never replaces ("a directory", "a FIFO",
  /// "a character device", …), or `nil` for a regular file or symbolic link (which a writer
  /// may replace by renaming over it; a link is replaced itself, never followed).
  static func nodeKind(_ mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG, S_IFLNK: return nil
    default: return fileKindName(mode)
    }
  }

  /// Refuses to put an entry at `name` in the open directory `parent` (what `extract` and
  /// `get -o DIR` do) when a directory, device, FIFO or socket is there, with or without
  /// `--force`: renaming a new file or link over it would replace the node itself (as root,
  /// `get X.tar null -o /dev --force` would delete `/dev/null`). Checked with
  /// `fstatat(parent, name, AT_SYMLINK_NOFOLLOW)`, relative to the directory descriptor the
  /// entry is renamed in, so no symbolic link is followed. A missing name, a regular file or
  /// a symbolic link passes.
  ///
  /// - Parameters:
  ///   - madeByThisRun: the existing node is a directory this extraction created (for other
  ///     members below it, or as a member): said so in the message instead of blaming the
  ///     user's tree.
  /// - Throws: `CotarError` `.invalidArgument` naming the entry and the node's kind.
  public static func refuseNonRegular(
    named name: [UInt8], in parent: Int32, entry: String, directory: String, madeByThisRun: Bool = false
  ) throws {
    guard let info = try? Syscall.linkStatus(at: parent, bytes: name), let kind = nodeKind(info.st_mode) else { return }
    if madeByThisRun && info.st_mode & S_IFMT == S_IFDIR {
      throw CotarError(
        .invalidArgument,
        "it is a directory this extraction created for other members below it; cotar does not replace a directory with a file or link, even with --force",
        path: entry, source: directory)
    }
    throw CotarError(
      .invalidArgument,
      "the path exists in the output directory as \(kind); cotar replaces only a regular file or a link, even with --force (renaming over it would replace the node itself)",
      path: entry, source: directory)
  }

  /// The identities of the files a plan reads.
  public static func inputs(of plan: TarPlan.Result) -> Set<FileIdentity> {
    var identities = Set<FileIdentity>()
    for member in plan.members {
      if let (_, identity) = member.data.checkedPath { identities.insert(identity) }
    }
    return identities
  }
}
