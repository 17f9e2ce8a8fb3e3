import ArgumentParser
import CotarCore
import CotarWriter

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// `cotar demo`: indexes the bundled sample tar and reads every entry back, showing the I/O.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Index the bundled sample tar (Fixtures/gnu-basic.tar), then read every entry back and check it.")

  @Option(help: "The tar to demonstrate on (default: the bundled sample).", completion: .file())
  var tar: String?

  func run() async throws {
    let samplePath = try tar ?? Self.bundledSample()
    let workDirectory = try Self.makeTemporaryDirectory()
    defer { Self.removeTree(workDirectory) }
    print("sample: \(samplePath)")

    let source = try FileSource(path: samplePath)
    let result = try await CotarIndexBuilder.build(tar: source)
    let coPath = workDirectory + "/sample.tar.co"
    let writer = try AtomicFileWriter(destination: coPath, overwrite: false)
    try await writer.copy(from: source, range: 0..<(try await source.size()))
    try writer.write(result.index.bytes)
    try writer.commit()
    print(buildSummary(result, output: "built sample.tar.co"))
    print("index: \(cotarCounted(result.index.bytes.count, "byte")) (\(cotarCounted(result.index.stats.slots, "slot")) × 16 + 16)")

    let counted = CountingSource(try FileSource(path: coPath))
    let cotar = try await Cotar.open(counted)
    print("opened .tar.co with \(cotarCounted(counted.counts.reads, "read")) (footer and, for a small index, the whole index)")

    var checked = 0
    let scanner = TarScanner(source: source)
    var members: [TarEntry] = []
    _ = try await scanner.scan { members.append($0) }
    for member in members where member.kind.isIndexed {
      counted.reset()
      guard let bytes = try await cotar.read(pathBytes: member.pathBytes) else {
        printError("cotar: demo: '\(member.path)' was not found in the index")
        throw ExitCode.failure
      }
      let target = try await Self.expectedBytes(of: member, in: members, source: source)
      guard bytes == target else {
        printError("cotar: demo: '\(member.path)' read back different bytes")
        throw ExitCode.failure
      }
      checked += 1
      print("  get \(member.path): \(cotarCounted(bytes.count, "byte")) in \(cotarCounted(counted.counts.reads, "read"))")
    }
    counted.reset()
    let absent = try await cotar.read("no/such/file.txt")
    print("  get no/such/file.txt: \(absent == nil ? "absent" : "FOUND?") after \(cotarCounted(counted.counts.reads, "read"))")

    let report = try await CotarValidator.validate(tar: counted, index: cotar.index)
    print("validate: \(report.isValid ? "valid" : "INVALID"), \(cotarCounted(report.indexedPaths, "indexed path")), \(cotarCounted(report.filledSlots, "filled slot"))")
    guard report.isValid, absent == nil else { throw ExitCode.failure }
    print("OK: \(cotarCounted(checked, "entry", "entries")) read back byte-exact through the index")
  }

  /// The bytes a member should read back as (hard links read their target's data).
  private static func expectedBytes(of member: TarEntry, in members: [TarEntry], source: FileSource) async throws -> [UInt8] {
    var data = member
    if member.kind == .hardLink,
      let target = members.last(where: { $0.pathBytes == member.linkTargetBytes && $0.headerOffset < member.headerOffset })
    {
      data = target
    }
    return try await source.read(data.dataOffset..<(data.dataOffset + data.size))
  }

  /// `Fixtures/gnu-basic.tar` from the working directory or beside this source checkout.
  static func bundledSample() throws -> String {
    let relative = "Fixtures/gnu-basic.tar"
    if access(relative, R_OK) == 0 { return relative }
    var root = #filePath
    for _ in 0..<4 {
      if let slash = root.lastIndex(of: "/") { root = String(root[..<slash]) }
    }
    let besideSources = root + "/" + relative
    if access(besideSources, R_OK) == 0 { return besideSources }
    throw CotarError(.invalidArgument, "cannot find the bundled sample \(relative); run from the repository root or pass --tar")
  }

  /// A new directory under `$TMPDIR` (or `/tmp`) for the demo's `.tar.co`.
  private static func makeTemporaryDirectory() throws -> String {
    do {
      return try Syscall.makeTemporaryDirectory(temporaryDirectory() + "/cotar-demo-XXXXXX")
    } catch {
      throw CotarError(.io, "cannot create a temporary directory in \(temporaryDirectory()): \(error)")
    }
  }

  private static func removeTree(_ directory: String) {
    unlink(directory + "/sample.tar.co")
    rmdir(directory)
  }
}
