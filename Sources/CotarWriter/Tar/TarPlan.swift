import CotarCore

/// A member ready to be written: its header fields and where its data comes from.
public struct PlannedMember: Sendable {
  /// The header fields.
  public var member: TarMember
  /// The data source.
  public var data: TarMemberData

  /// Creates a planned member.
  public init(member: TarMember, data: TarMemberData) {
    self.member = member
    self.data = data
  }
}

/// Turns collected inputs into members, storing identical file contents once.
public enum TarPlan {
  /// The members to write, in input order, and how many files became hard links.
  public struct Result: Sendable {
    /// Members in the order they must be written.
    public var members: [PlannedMember]
    /// Files stored as hard links to an earlier file with the same content.
    public var deduplicated: Int
  }

  /// Plans members for `inputs` (already sorted).
  ///
  /// With a `digest`, a non-empty file whose size, execute bit and digest equal an earlier
  /// file's becomes a hard link to that earlier file (the first in archive order). Only
  /// files whose size and execute bit match another file's are digested. Empty files are
  /// never linked: there is nothing to save and extracting them as links would tie them
  /// together. Dedupe applies within one call only, so the target is always in the same archive.
  /// - Parameters:
  ///   - inputs: inputs sorted bytewise by archive path.
  ///   - digest: content hash of a file (SHA-256 in the CLI); `nil` disables dedupe.
  /// - Throws: whatever `digest` throws (for example an unreadable file).
  public static func plan(
    _ inputs: [TarInput], digest: ((TarInput) throws -> [UInt8])? = nil
  ) throws -> Result {
    var groupSizes: [SizeKey: Int] = [:]
    if digest != nil {
      for input in inputs {
        if case .file(let size, let executable) = input.kind, size > 0 {
          groupSizes[SizeKey(size: size, executable: executable), default: 0] += 1
        }
      }
    }
    var firstByContent: [ContentKey: [UInt8]] = [:]
    var members: [PlannedMember] = []
    members.reserveCapacity(inputs.count)
    var deduplicated = 0
    for input in inputs {
      let member = input.member
      guard case .file(let size, let executable) = input.kind else {
        members.append(PlannedMember(member: member, data: .none))
        continue
      }
      let sizeKey = SizeKey(size: size, executable: executable)
      var compared = false
      if let digest, (groupSizes[sizeKey] ?? 0) > 1 {
        compared = true
        let key = ContentKey(size: sizeKey, digest: try digest(input))
        if let target = firstByContent[key] {
          members.append(
            PlannedMember(
              member: TarMember(pathBytes: input.archivePath, kind: .hardLink, mode: member.mode, linkTargetBytes: target),
              data: .none))
          deduplicated += 1
          continue
        }
        firstByContent[key] = input.archivePath
      }
      members.append(PlannedMember(member: member, data: size == 0 ? .none : Self.data(of: input, compared: compared)))
    }
    return Result(members: members, deduplicated: deduplicated)
  }

  /// How a file's data is read: checked to be the object the walk saw, and, when its content
  /// was compared with others' (`compared`), unchanged since the walk.
  private static func data(of input: TarInput, compared: Bool) -> TarMemberData {
    guard let identity = input.identity else { return .file(input.filesystemPath) }
    if compared, let changeTime = input.changeTime { return .comparedFile(input.filesystemPath, identity, changeTime: changeTime) }
    return .checkedFile(input.filesystemPath, identity)
  }

  private struct SizeKey: Hashable {
    var size: UInt64
    var executable: Bool
  }

  private struct ContentKey: Hashable {
    var size: SizeKey
    var digest: [UInt8]
  }
}
