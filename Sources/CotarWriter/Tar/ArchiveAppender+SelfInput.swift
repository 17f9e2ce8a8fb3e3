import CotarCore

extension ArchiveAppender {
  /// Refuses a plan that would put the archive into itself (`cotar append X.tar X.tar`, or
  /// `cotar append X.tar .` run in the archive's directory), as `cotar tar` refuses an output
  /// that is one of its inputs (``OutputGuard/refuse(destination:sameAs:)``, SPEC §9.1, §9.2):
  /// a member that is the archive itself or one of the sidecars the append rewrites
  /// (`ARCHIVE.index`, `ARCHIVE.names`), compared by device and inode, not by name; or a
  /// temporary file of one of those outputs (`.NAME.cotar-tmp-XXXXXX` in the archive's directory),
  /// left by a killed run: refused too, since its bytes are a partial copy of an output.
  ///
  /// - Parameters:
  ///   - plan: the members to append.
  ///   - path: the archive (symbolic links already resolved).
  /// - Throws: `CotarError` `.invalidArgument` naming the member, before anything is written.
  static func refuseSelfInput(_ plan: TarPlan.Result, archive path: String) throws {
    let outputs = [path, path + ".index", path + NameTableFormat.sidecarSuffix]
    var identities: [FileIdentity: String] = [:]
    for output in outputs {
      if let identity = OutputGuard.identity(of: output) { identities[identity] = output }
    }
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[...$0]) } ?? ""
    let directoryIdentity = OutputGuard.identity(of: directory.isEmpty ? "." : directory)
    let outputNames = Set(outputs.map { output -> [UInt8] in
      Array((output.lastIndex(of: "/").map { String(output[output.index(after: $0)...]) } ?? output).utf8)
    })
    for planned in plan.members {
      guard let (file, identity) = planned.data.checkedPath else { continue }
      if let output = identities[identity] {
        let what = output == path ? "is the archive itself" : "is the archive's sidecar \(output), which this append rewrites"
        throw CotarError(
          .invalidArgument,
          "'\(planned.member.path)' \(what); an archive cannot contain itself. Name the files to append instead of a directory that holds the archive, or keep the archive outside --base",
          path: planned.member.path, source: path)
      }
      let component = file.split(separator: 0x2F).last.map(Array.init) ?? file
      guard
        let entry = TemporaryNames.entryName(ofTemporary: component), outputNames.contains(entry),
        let directoryIdentity, OutputGuard.identity(of: parentDirectory(of: file)) == directoryIdentity
      else { continue }
      throw CotarError(
        .invalidArgument,
        "'\(planned.member.path)' is a temporary file of this archive left by an interrupted run; remove it, or name the files to append instead of a directory that holds it",
        path: planned.member.path, source: path)
    }
  }

  /// The directory part of a raw path (`.` when it has none).
  private static func parentDirectory(of path: [UInt8]) -> String {
    guard let slash = path.lastIndex(of: 0x2F) else { return "." }
    return slash == 0 ? "/" : String(decoding: path[..<slash], as: UTF8.self)
  }
}
