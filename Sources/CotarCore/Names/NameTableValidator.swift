extension CotarValidator {
  /// Checks that `table` lists exactly the members of `tar` (SPEC §12.5): the same paths,
  /// kinds, sizes, data offsets, modes, mtimes and link targets.
  ///
  /// - Returns: one line per difference (at most ``maximumProblems``), empty when they agree.
  /// - Throws: `CotarError` when the tar cannot be scanned or a table block is damaged.
  public static func validateNames(
    tar: any RangeSource, table: NameTable, scanOptions: TarScanner.Options = .init()
  ) async throws -> [String] {
    let expected = try await NameTable.scanning(tar: tar, options: scanOptions).entries(withPrefix: [])
    let found = try await table.entries(withPrefix: [])
    var problems: [String] = []
    if found.count != expected.count {
      problems.append("name table lists \(found.count) path\(found.count == 1 ? "" : "s"), the tar has \(expected.count)")
    }
    var foundByPath: [[UInt8]: NameEntry] = [:]
    for entry in found { foundByPath[entry.pathBytes] = entry }
    for entry in expected where problems.count < maximumProblems {
      guard let listed = foundByPath.removeValue(forKey: entry.pathBytes) else {
        problems.append("'\(entry.path)': in the tar, not in the name table")
        continue
      }
      if listed != entry {
        problems.append(
          "'\(entry.path)': name table says \(listed.kind) size \(listed.size) offset \(listed.dataOffset) mode \(String(listed.mode, radix: 8)) mtime \(listed.mtime), the tar \(entry.kind) size \(entry.size) offset \(entry.dataOffset) mode \(String(entry.mode, radix: 8)) mtime \(entry.mtime)"
        )
      }
    }
    for entry in foundByPath.values.prefix(max(0, maximumProblems - problems.count)) {
      problems.append("'\(entry.path)': in the name table, not in the tar")
    }
    return problems
  }
}
