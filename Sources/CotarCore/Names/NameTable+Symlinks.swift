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
  /// link with that text. The path asked for is looked up with its own leading `./` or
  /// without; a path reached through a link with and without (`tar -C dir .` stores `./a`).
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
        let found = try await member(
          at: components, spelling: Spelling(dotSlash: Self.startsWithDotSlash(pathBytes), both: false), hops: &hops,
          maximumHops: maximumHops, asked: pathBytes)
      else { return nil }
      entry = found
    }
    while followingLastLink, let text = try await linkText(of: entry, maximumHops: maximumHops) {
      try Self.countHop(&hops, maximumHops: maximumHops, link: entry, asked: pathBytes)
      let directory = Self.lexicalComponents(entry.pathBytes, under: [])?.dropLast() ?? []
      let components = try Self.target(text, of: entry, under: Array(directory))
      guard
        let next = try await member(
          at: components, spelling: Spelling(dotSlash: Self.startsWithDotSlash(entry.pathBytes), both: true), hops: &hops,
          maximumHops: maximumHops, asked: pathBytes)
      else {
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

  /// How a normalised path is spelled when looked up: the path asked for keeps its own
  /// spelling (with or without `./`, as `get` of any path does); a path reached through a link
  /// is tried with and without `./`, the link's own first (`tar -C dir .` names every member
  /// `./…`), which saves a table block read per hop.
  struct Spelling {
    /// Whether the `./` spelling is tried (first).
    var dotSlash: Bool
    /// Whether the other spelling is tried too.
    var both: Bool

    /// The paths to look up for `components`, without and then with a trailing `/`.
    func paths(_ components: ArraySlice<[UInt8]>, slash: Bool = true) -> [[UInt8]] {
      let plain = Array(components.joined(separator: [0x2F]))
      let dotted: [UInt8] = [0x2E, 0x2F] + plain
      let spellings = both ? (dotSlash ? [dotted, plain] : [plain, dotted]) : [dotSlash ? dotted : plain]
      return slash ? spellings + spellings.map { $0 + [0x2F] } : spellings
    }
  }

  /// The member at the normalised path `components`, its directories resolved: when no
  /// member has the path, the first directory of it that is a symbolic link is replaced by
  /// its target and the lookup repeats. `nil` when no directory is a link (the path is absent).
  ///
  /// A path whose parent has members below it is a real directory, so no link is on its way:
  /// an absent path then costs no reads beyond its own block.
  private func member(
    at components: [[UInt8]], spelling: Spelling, hops: inout Int, maximumHops: Int, asked: [UInt8]
  ) async throws -> NameEntry? {
    var components = components
    var spelling = spelling
    lookup: while true {
      if let found = try await stat(spelling.paths(components[...])) { return found }
      if components.count > 1 {
        for parent in spelling.paths(components.dropLast(), slash: false) {
          if try await hasEntry(withPrefix: parent + [0x2F]) { return nil }
        }
      }
      for end in components.indices.dropLast().map({ $0 + 1 }) {
        guard let directory = try await stat(spelling.paths(components[..<end])),
          let text = try await linkText(of: directory, maximumHops: maximumHops)
        else { continue }
        try Self.countHop(&hops, maximumHops: maximumHops, link: directory, asked: asked)
        components = try Self.target(text, of: directory, under: Array(components[..<(end - 1)])) + components[end...]
        spelling = Spelling(dotSlash: Self.startsWithDotSlash(directory.pathBytes), both: true)
        continue lookup
      }
      return nil
    }
  }

  /// The first of `paths` the table holds; `nil` when none (or no paths).
  private func stat(_ paths: [[UInt8]]) async throws -> NameEntry? {
    for path in paths where !path.isEmpty {
      if let found = try await stat(pathBytes: path) { return found }
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

  /// Whether `path` starts with `./`.
  private static func startsWithDotSlash(_ path: [UInt8]) -> Bool { path.starts(with: [0x2E, 0x2F]) }

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
