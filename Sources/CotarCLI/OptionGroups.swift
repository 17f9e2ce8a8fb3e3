import ArgumentParser
import CotarCore
import CotarWriter

/// `--packing`, `--max-search` and `--no-names`: how an index is built (`index`, `create`, `tar`,
/// `append`, `pack`).
struct IndexOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "Extra hash-table slots in percent (slots = ceil(files × (1 + packing/100))).",
      discussion:
        "Without --packing, the packing starts at 25 and is raised in steps of 5 until every probe run fits --max-search; with it, the build fails instead."
    ))
  var packing: Double?

  @Option(name: .customLong("max-search"), parsing: .unconditional, help: "Longest probe run allowed before the build fails.")
  var maxSearch: Int = 50

  @Flag(name: .customLong("no-names"), help: "Do not write the name table (paths, kinds, sizes for ls/stat without a scan).")
  var noNames = false

  func validate() throws {
    if let packing {
      guard packing.isFinite, packing >= 0, packing <= 1_000_000 else {
        throw ValidationError("--packing must be a number from 0 to 1000000 (got \(packing))")
      }
    }
    guard (0...1_000_000).contains(maxSearch) else {
      throw ValidationError("--max-search must be from 0 to 1000000 (got \(maxSearch))")
    }
  }

  /// The builder's options: automatic packing when `--packing` was not given.
  var builderOptions: CotarIndexBuilder.Options {
    CotarIndexBuilder.Options(packing: packing, maxSearch: maxSearch)
  }
}

/// `-o/--output` and `--force`: where a command writes, and whether it may replace what is
/// there. Every output is written atomically (temporary file, then rename).
struct OutputOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "Where to write (the command's description gives the default).", completion: .file())
  var output: String?

  @Flag(help: "Replace the output if it exists.")
  var force = false
}

/// `--base`, `--dirs` and `--no-dedupe`: how files and directories on disk become tar members
/// (`tar`, `append`, `pack`).
struct TreeInputOptions: ParsableArguments {
  @Option(help: "Directory that archive names are relative to.", completion: .directory)
  var base: String = "."

  @Flag(help: "Store directories as members too (default: only their contents).")
  var dirs = false

  @Flag(name: .customLong("no-dedupe"), help: "Store identical files separately instead of as hard links.")
  var noDedupe = false

  /// Walks `inputs` below `--base`, printing the walk's warnings to standard error.
  ///
  /// - Throws: `CotarError` from the walk (a missing input, one outside the base).
  func collect(_ inputs: [String]) throws -> [TarInput] {
    let collection = try TarInputCollector(options: .init(base: base, includeDirectories: dirs)).collect(inputs)
    for warning in collection.warnings { printError("cotar: \(warning)") }
    return collection.inputs
  }

  /// SHA-256 of an input's content for hard-link dedupe, or `nil` with `--no-dedupe`.
  var contentDigest: ((TarInput) throws -> [UInt8])? {
    if noDedupe { return nil }
    return { input in try sha256(ofFile: input.filesystemPath, identity: input.identity) }
  }

  /// The reproducible plan for `inputs`: sorted members, duplicates as hard links.
  ///
  /// - Throws: `CotarError` from the walk or from hashing a file.
  func plan(_ inputs: [String]) throws -> TarPlan.Result {
    try TarPlan.plan(try collect(inputs), digest: contentDigest)
  }
}

/// `--gzip`, `--gzip-member-size` and `--gzip-level`: write a cloud-friendly `.tar.gz`
/// (SPEC §13.5) instead of a plain tar (`tar`, `pack`).
struct GzipOutputOptions: ParsableArguments {
  @Flag(
    help:
      "Write a cloud-friendly .tar.gz: concatenated gzip members, with its .tar.gz.index (for tar: with --index; an OUTPUT named .tar.gz or .tgz implies --gzip, and --gzip needs such a name).")
  var gzip = false

  @Option(help: ArgumentHelp("With --gzip: uncompressed bytes per gzip member, 64KiB to 1GiB (default 1MiB).", valueName: "size"))
  var gzipMemberSize: String?

  @Option(help: "With --gzip: zlib compression level, 1 to 9 (default 6).")
  var gzipLevel: Int?

  func validate() throws {
    if let gzipLevel, !(1...9).contains(gzipLevel) { throw ValidationError("--gzip-level must be from 1 to 9") }
    _ = try memberSize
  }

  /// Checks that `--gzip-member-size` and `--gzip-level` are given only when the command
  /// writes gzip (`compressing`: `--gzip`, or for `cotar tar` an output named `.tar.gz`).
  ///
  /// - Throws: `ValidationError` otherwise.
  func requireCompression(_ compressing: Bool) throws {
    guard compressing || (gzipMemberSize == nil && gzipLevel == nil) else {
      throw ValidationError("--gzip-member-size and --gzip-level apply only with --gzip")
    }
  }

  /// Uncompressed bytes per gzip member.
  ///
  /// - Throws: `ValidationError` for a size that does not parse or is outside 64 KiB–1 GiB.
  var memberSize: Int {
    get throws {
      guard let text = gzipMemberSize else { return GzipIndexFormat.defaultSpacing }
      let parsed: UInt64
      do {
        parsed = try ByteSize.parse(text)
      } catch {
        throw ValidationError("--gzip-member-size: \(error.message)")
      }
      guard let size = Int(exactly: parsed), (64 << 10)...(1 << 30) ~= size else {
        throw ValidationError("--gzip-member-size must be from 64KiB to 1GiB")
      }
      return size
    }
  }

  /// The zlib level.
  var level: Int32 { Int32(gzipLevel ?? 6) }
}
