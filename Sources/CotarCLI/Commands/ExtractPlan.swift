import CotarCore
import CotarWriter

/// How `cotar extract` writes the selected members, decided before anything is written
/// (README "extract", SPEC §12.6): one member per output file, hard links resolved.
struct ExtractPlan {
  /// Directories, in path order.
  var directories: [NameEntry] = []
  /// Files, and hard links written as copies of their data.
  var files: [NameEntry] = []
  /// Hard links made with link(2): `target` is the stored path of the extracted file.
  var hardLinks: [(member: NameEntry, target: [UInt8])] = []
  /// Symbolic links, and hard links to symbolic links (`target` is the link text).
  var symbolicLinks: [(member: NameEntry, target: [UInt8])] = []
  /// Members refused before any write (each is reported and counts as failed).
  var refused: [CotarError] = []

  /// Plans the extraction of `members` (from `table`).
  ///
  /// - Throws: what reading `table` throws.
  init(_ members: [NameEntry], table: NameTable) async throws {
    let chosen = Self.latestPerOutput(members)
    var extractedFiles: [[[UInt8]]: NameEntry] = [:]
    var extractedLinks: [[[UInt8]]: NameEntry] = [:]
    for member in chosen where (member.kind == .file && !Self.isDirectoryByName(member)) || member.kind == .hardLink {
      guard let key = try? SafeExtractor.components(of: member.pathBytes) else { continue }
      if member.kind == .file { extractedFiles[key] = member } else { extractedLinks[key] = member }
    }
    for member in chosen {
      do {
        if member.kind != .directory { _ = try SafeExtractor.components(of: member.pathBytes) }
        switch member.kind {
        case .directory: directories.append(member)
        case .file where Self.isDirectoryByName(member): directories.append(member)
        case .file: files.append(member)
        case .symbolicLink: symbolicLinks.append((member, member.linkTargetBytes ?? []))
        case .hardLink:
          let target = member.linkTargetBytes ?? []
          if member.dataOffset == 0 && member.size == 0 {  // no data: a hard link to a symlink (SPEC §6)
            guard let text = try await table.symbolicLinkText(ofHardLink: member) else {
              throw CotarError(
                .invalidArgument,
                "skipping hard link to '\(member.linkTarget ?? "")': it has no data and its target is not a symbolic link in the name table",
                path: member.path)
            }
            symbolicLinks.append((member, text))
          } else if let file = Self.extractedFile(linkedBy: target, files: extractedFiles, links: extractedLinks),
            file.dataOffset == member.dataOffset, file.size == member.size
          {
            hardLinks.append((member, file.pathBytes))
          } else {
            // Its target is not extracted, or the extracted file at that path is a later
            // version (another data offset or size): a copy of the data the link names.
            files.append(member)
          }
        case .other:
          throw CotarError(
            .invalidArgument, "skipping a member that is not a file, directory or link: it is \(specialMemberKinds) (cotar ls --tar-order --long shows which; extract it with GNU tar)",
            path: member.path)
        }
      } catch let error as CotarError {
        refused.append(error)
      }
    }
  }

  /// Whether `member` is a regular-file record whose name ends in `/`: old tars store a
  /// directory so, and GNU tar and bsdtar extract such a member as a directory (any data it
  /// declares is not written). The index keeps it as a file, as linz/cotar's builder does.
  static func isDirectoryByName(_ member: NameEntry) -> Bool {
    member.kind == .file && member.pathBytes.last == UInt8(ascii: "/")
  }

  /// The extracted file a hard link with link name `target` ends at: the file at that path
  /// (`.` and empty components ignored), or, when a hard link is extracted there (a link to a
  /// link, `d -> b -> a`), the file that link ends at; at most 40 links are followed.
  static func extractedFile(
    linkedBy target: [UInt8], files: [[[UInt8]]: NameEntry], links: [[[UInt8]]: NameEntry]
  ) -> NameEntry? {
    var target = target
    for _ in 0...40 {
      guard let key = try? SafeExtractor.components(of: target) else { return nil }
      if let file = files[key] { return file }
      guard let link = links[key], let next = link.linkTargetBytes else { return nil }
      target = next
    }
    return nil
  }

  /// One member per output file: members whose paths name the same file once `.` and empty
  /// components are removed (`f` and `./f`) are one output, and the latest in archive order
  /// wins, as with GNU tar. The name table records the archive position of file data only
  /// (a hard link's offset is its target's; directories and symbolic links have none), so a
  /// file wins over the other kinds and the file with the largest data offset over other
  /// files; among members without data the last in path order is kept. Names that are
  /// refused (absolute, `..`) or name the root are kept as they are.
  static func latestPerOutput(_ members: [NameEntry]) -> [NameEntry] {
    var chosen: [[[UInt8]]: Int] = [:]
    var kept: [Int] = []
    for (position, member) in members.enumerated() {
      guard !SafeExtractor.isRoot(member.pathBytes), let key = try? SafeExtractor.components(of: member.pathBytes) else {
        kept.append(position)
        continue
      }
      guard let other = chosen[key] else {
        chosen[key] = position
        continue
      }
      if isLater(member, than: members[other]) { chosen[key] = position }
    }
    return (kept + chosen.values).sorted().map { members[$0] }
  }

  /// Whether `member` is taken to come after `other` in the archive (see ``latestPerOutput(_:)``).
  private static func isLater(_ member: NameEntry, than other: NameEntry) -> Bool {
    switch (member.kind == .file, other.kind == .file) {
    case (true, true): member.dataOffset > other.dataOffset
    case (true, false): true
    case (false, true): false
    case (false, false): !member.pathBytes.lexicographicallyPrecedes(other.pathBytes)
    }
  }
}
