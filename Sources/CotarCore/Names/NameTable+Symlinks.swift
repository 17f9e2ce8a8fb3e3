/// Following symbolic links (and hard links to them) through the name table, as the file
/// system would after `tar -x` (SPEC §12.6): intermediate components that are symbolic links
/// are followed too, up to a hop limit.
extension NameTable {
  /// The link text of the symbolic link that `entry`, a hard link without data, names
  /// (following hard links to hard links): GNU tar stores `ln -P sym sym2` as a hard link to
  /// the symlink, which extracts as a symlink with the same text (SPEC §6). A link name is
  /// looked up as the index builder does (``LinkTargetSpelling``).
  ///
  /// - Returns: `nil` when `entry` is not a hard link without data (offset and size 0), or
  ///   the path it names is not a symbolic link in the table (replaced later in the archive),
  ///   or the chain is longer than `maximumHops`.
  /// - Throws: as ``entries(from:before:)``.
  public func symbolicLinkText(ofHardLink entry: NameEntry, maximumHops: Int = 40) async throws -> [UInt8]? {
    var current = entry
    for _ in 0..<maximumHops {
      guard current.kind == .hardLink, current.dataOffset == 0, current.size == 0,
        let next = try await stat(linkName: current.linkTargetBytes ?? [])
      else { return nil }
      if next.kind == .symbolicLink { return next.linkTargetBytes ?? [] }
      current = next
    }
    return nil
  }

  /// The entry a hard link with link name `linkName` names: the first of
  /// ``LinkTargetSpelling/spellings(of:)`` in the table (SPEC §6).
  func stat(linkName: [UInt8]) async throws -> NameEntry? {
    for spelling in LinkTargetSpelling.spellings(of: linkName) {
      if let entry = try await stat(pathBytes: spelling) { return entry }
    }
    return nil
  }

  /// The member at `pathBytes` with symbolic links followed inside the archive, as the file
  /// system resolves the path after `tar -x`: a link's target is resolved against the link's
  /// directory (`.` and `..` removed lexically), and a component of the path that is a
  /// symbolic link (`dl/g` with `dl -> d`) is replaced by its target too. A hard link to a
  /// symbolic link (``symbolicLinkText(ofHardLink:maximumHops:)``) is followed as a symbolic
  /// link with that text. A path that is not stored as spelled is looked up with its `.` and
  /// empty components removed, with and without a leading `./` (`tar -C dir .` stores `./a`).
  ///
  /// - Parameters:
  ///   - pathBytes: the path asked for.
  ///   - maximumHops: the most symbolic links followed, intermediate ones included (40, as
  ///     Linux before `ELOOP`).
  ///   - followingLastLink: `false` resolves only the directories of the path and returns
  ///     the last component as it is, a symbolic link included (`lstat`).
  /// - Returns: the final member (not a symbolic link unless `followingLastLink` is false),
  ///   or `nil` when the path or a link's target is absent (a dangling link), or the path
  ///   asked for is absolute or climbs above the root.
  /// - Throws: `CotarError` `.invalidArgument` for a link target that is absolute or climbs
  ///   above the archive root, or more than `maximumHops` links (a loop); else as
  ///   ``entries(from:before:)``.
  public func resolvingSymlinks(
    pathBytes: [UInt8], maximumHops: Int = 40, followingLastLink: Bool = true
  ) async throws -> NameEntry? {
    var hops = 0
    var entry: NameEntry
    if let found = try await stat(pathBytes: pathBytes) {
      entry = found
    } else {
      guard pathBytes.first != 0x2F, let components = Self.lexicalComponents(pathBytes, under: []),
        let found = try await member(at: components, hops: &hops, maximumHops: maximumHops, asked: pathBytes)
      else { return nil }
      entry = found
    }
    while followingLastLink, let text = try await linkText(of: entry, maximumHops: maximumHops) {
      try Self.countHop(&hops, maximumHops: maximumHops, link: entry, asked: pathBytes)
      let directory = Self.lexicalComponents(entry.pathBytes, under: [])?.dropLast() ?? []
      let components = try Self.target(text, of: entry, under: Array(directory))
      guard let next = try await member(at: components, hops: &hops, maximumHops: maximumHops, asked: pathBytes) else {
        return nil
      }
      entry = next
    }
    return entry
  }

  /// The link text `entry` leads to: its own for a symbolic link, its target's for a hard link
  /// to one; `nil` for every other member.
  private func linkText(of entry: NameEntry, maximumHops: Int) async throws -> [UInt8]? {
    if entry.kind == .symbolicLink { return entry.linkTargetBytes ?? [] }
    return try await symbolicLinkText(ofHardLink: entry, maximumHops: maximumHops)
  }

  /// The member at the normalised path `components`, its directories resolved: when no
  /// member has the path, the first directory of it that is a symbolic link is replaced by
  /// its target and the lookup repeats. `nil` when no directory is a link (the path is absent).
  private func member(
    at components: [[UInt8]], hops: inout Int, maximumHops: Int, asked: [UInt8]
  ) async throws -> NameEntry? {
    var components = components
    lookup: while true {
      if let found = try await stat(components: components[...]) { return found }
      for end in components.indices.dropLast().map({ $0 + 1 }) {
        guard let directory = try await stat(components: components[..<end]),
          let text = try await linkText(of: directory, maximumHops: maximumHops)
        else { continue }
        try Self.countHop(&hops, maximumHops: maximumHops, link: directory, asked: asked)
        components = try Self.target(text, of: directory, under: Array(components[..<(end - 1)])) + components[end...]
        continue lookup
      }
      return nil
    }
  }

  /// The member whose path is `components` joined by `/`, stored with or without a leading
  /// `./`, or with a trailing `/` (a directory); `nil` for the root (no components).
  private func stat(components: ArraySlice<[UInt8]>) async throws -> NameEntry? {
    guard !components.isEmpty else { return nil }
    let path = Array(components.joined(separator: [0x2F]))
    for spelling in [path, [0x2E, 0x2F] + path, path + [0x2F], [0x2E, 0x2F] + path + [0x2F]] {
      if let found = try await stat(pathBytes: spelling) { return found }
    }
    return nil
  }

  /// The components of a link's target `text`, resolved against the link's directory
  /// `directory`.
  /// - Throws: `.invalidArgument` for an absolute target or one that climbs above the root.
  private static func target(_ text: [UInt8], of link: NameEntry, under directory: [[UInt8]]) throws(CotarError) -> [[UInt8]] {
    let shown = String(decoding: escapedName(text), as: UTF8.self)
    guard text.first != 0x2F else {
      throw CotarError(.invalidArgument, "symbolic link to '\(shown)' points outside the archive (absolute)", path: link.path)
    }
    guard let components = lexicalComponents(text, under: directory) else {
      throw CotarError(.invalidArgument, "symbolic link to '\(shown)' points outside the archive root", path: link.path)
    }
    return components
  }

  /// `path`'s components appended to `directory`, without empty and `.` components, each `..`
  /// removing the one before it; `nil` when a `..` would climb above the root.
  static func lexicalComponents(_ path: [UInt8], under directory: [[UInt8]]) -> [[UInt8]]? {
    var components = directory
    for component in path.split(separator: 0x2F, omittingEmptySubsequences: true) {
      if component.elementsEqual([0x2E]) { continue }
      if component.elementsEqual([0x2E, 0x2E]) {
        guard !components.isEmpty else { return nil }
        components.removeLast()
      } else {
        components.append(Array(component))
      }
    }
    return components
  }

  /// Counts one more link followed.
  /// - Throws: `.invalidArgument` past `maximumHops` (a loop, as `ELOOP`).
  private static func countHop(_ hops: inout Int, maximumHops: Int, link: NameEntry, asked: [UInt8]) throws(CotarError) {
    hops += 1
    guard hops <= maximumHops else {
      throw CotarError(
        .invalidArgument,
        "more than \(maximumHops) symbolic links while resolving '\(String(decoding: escapedName(asked), as: UTF8.self))' (a loop?)",
        path: link.path)
    }
  }
}
