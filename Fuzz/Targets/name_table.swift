// Fuzz target: the name table reader (SPEC §12): trailer, block index, block decoding
// (columns, zlib, predictors) and the queries (entries, stat, listdir, walk, glob, symlinks).
//
// Input: [speculative-size selector][mode] then
//   mode bit 0 = 0 (raw):   table bytes (the trailer ends the input);
//   mode bit 0 = 1 (build): [flip count][flips: u16 position, xor byte]… then records
//                           [kind][path length][path][size u16][offset u16][mode][mtime][link length][link]…,
//                           built with NameTableBuilder (block size and zlib from mode bits
//                           1–3), then the flips applied to the built bytes.
//
// Invariants checked beyond "no crash":
// - open and every query fail only with `.corruptIndex` or `.unsupportedVersion` (symlink
//   resolution also with `.invalidArgument`); no read outside the table;
// - a decoded table is strictly sorted, holds the trailer's entry count, and `stat`,
//   `listdir`, `walk` and `glob("**")` agree with the full listing;
// - a built table without flips reads back exactly the entries it was built from.

let namesSpeculativeChoices = [0, 40, 64, 100, 1024, 64 << 10]
let tableErrorCodes: Set<CotarError.Code> = [.corruptIndex, .unsupportedVersion]

/// Records of a build-mode input, normalised as the table stores them.
func namesModel(_ input: inout FuzzInput) -> [NameEntry] {
  var entries: [NameEntry] = []
  while !input.rest.isEmpty && entries.count < 300 {
    guard let kind = NameEntry.Kind(rawValue: input.byte() % 5) else { break }
    let pathLength = Int(input.byte() % 48)
    var path: [UInt8] = []
    for _ in 0..<pathLength { path.append(input.byte()) }
    let size = input.uint64(2)
    let offset = input.uint64(2) * 512
    let mode = UInt32(input.byte()) * 7
    let mtime = Int64(Int8(bitPattern: input.byte())) * 1000
    let linkLength = Int(input.byte() % 24)
    var link: [UInt8] = []
    for _ in 0..<linkLength { link.append(input.byte()) }
    let data = kind == .file || kind == .hardLink
    entries.append(
      NameEntry(
        pathBytes: path, kind: kind, size: kind == .directory || kind == .symbolicLink ? 0 : size,
        dataOffset: data ? offset : 0, mode: mode, mtime: mtime,
        linkTargetBytes: kind == .symbolicLink || kind == .hardLink ? link : nil))
  }
  return entries
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNameTable(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let speculative = namesSpeculativeChoices[Int(input.byte()) % namesSpeculativeChoices.count]
  let mode = input.byte()
  var bytes: [UInt8]
  var expected: [NameEntry]?
  if mode & 1 == 0 {
    bytes = input.rest
  } else {
    let flipCount = Int(input.byte() % 4)
    var flips: [(position: Int, xor: UInt8)] = []
    for _ in 0..<flipCount { flips.append((Int(input.uint64(2)), input.byte())) }
    let model = namesModel(&input)
    var builder = NameTableBuilder(
      options: .init(targetBlockBytes: [256, 1024, 4096, 64 << 10][Int(mode >> 1) & 3], compress: mode & 8 == 0))
    for entry in model { builder.add(entry) }
    do {
      bytes = try builder.build()
    } catch {
      fatalError("invariant violated: building a table of \(model.count) entries threw \(error)")
    }
    for flip in flips where !bytes.isEmpty { bytes[flip.position % bytes.count] ^= flip.xor }
    if flips.allSatisfy({ $0.xor == 0 }) { expected = builder.sortedEntries() }
  }
  let source = CheckedSource(bytes)
  let tableSize = UInt64(bytes.count)
  let built = expected
  let result = runBlocking { () async throws -> Bool in
    let table: NameTable
    do {
      guard let opened = try await NameTable.open(in: source, endingAt: tableSize, speculativeBytes: speculative)
      else {
        invariant(built == nil, "a freshly built table was not found")
        return false
      }
      table = opened
    } catch let error as CotarError {
      invariant(tableErrorCodes.contains(error.code), "open failed with \(error.code): \(error)")
      invariant(built == nil, "a freshly built table was refused: \(error)")
      return false
    }
    let all: [NameEntry]
    do {
      all = try await table.entries(withPrefix: [])
    } catch let error as CotarError {
      invariant(error.code == .corruptIndex, "listing failed with \(error.code): \(error)")
      invariant(built == nil, "a freshly built table failed to decode: \(error)")
      return false
    }
    if let expected = built { invariant(all == expected, "built table reads back \(all.count) entries, not the \(expected.count) built") }
    invariant(all.count == table.count, "listed \(all.count) entries, the trailer says \(table.count)")
    for (previous, next) in zip(all, all.dropFirst()) {
      invariant(previous.pathBytes.lexicographicallyPrecedes(next.pathBytes), "paths not strictly increasing")
    }
    // Every block decoded once already: the queries below read only what the listing read.
    for entry in all.prefix(4) {
      let found = try await table.stat(pathBytes: entry.pathBytes)
      invariant(found == entry, "stat of a listed path differs")
      let directory = NameTable.directoryPrefix(entry.pathBytes)
      let children = try await table.listdir(pathBytes: entry.pathBytes)
      invariant(
        children.allSatisfy { $0.pathBytes.starts(with: directory) }, "listdir returned a child outside its directory")
      if entry.kind == .symbolicLink {
        do {
          _ = try await table.resolvingSymlinks(pathBytes: entry.pathBytes, maximumHops: 8)
        } catch let error as CotarError {
          invariant(error.code == .invalidArgument, "symlink resolution failed with \(error.code): \(error)")
        }
      }
    }
    let top = try await table.listdir("")
    invariant(top.reduce(0) { $0 + $1.memberCount } <= all.count, "listdir counts more members than the table holds")
    var walked = 0
    for try await _ in table.walk("") { walked += 1 }
    let everything = try await table.glob("**")
    invariant(walked == all.count, "walk yielded \(walked) of \(all.count)")
    invariant(everything.count <= all.count, "glob ** matched more than the table holds")
    return true
  }
  if case .failure(let error) = result { fatalError("invariant violated: a query threw \(error)") }
  return 0
}
