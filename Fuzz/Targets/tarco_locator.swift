// Fuzz target: the `.tar.co` locator (`CotarIndex.trailing(in:)` and `Cotar.open`), which
// finds an index through the footer at the end of arbitrary bytes, then lookups and reads.
//
// Input: [speculative-size selector][window selector][mode] file bytes…
//        [paths, newline-separated][length of the paths part].
//
// Invariants checked beyond "no crash":
// - the locator fails only with a CotarError of an index kind, or returns an index that
//   ends exactly at the end of the file (base offset + index size = file size);
// - a lookup never reads outside the slot table (or the cache blocks around it);
// - every lookup finds what a linear probe of the table finds;
// - `Cotar.entry`/`read` return only entries inside the tar part (before the index) and
//   report `.corruptIndex` for a record pointing past it; `read` returns `size` bytes.

let speculativeChoices = [0, 8, 16, 40, 100, 1024, 64 << 10]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarCoLocator(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let speculative = speculativeChoices[Int(input.byte()) % speculativeChoices.count]
  let windowSlots = 1 + Int(input.byte()) % 80
  let mode = input.byte()
  let (bytes, paths) = splitPaths(input.rest)
  let source = CheckedSource(bytes)
  let blockSize = 64
  let useCache = mode & 1 == 1
  let loadIntoMemory = mode & 2 == 2
  let result = runBlocking { () async throws -> Bool in
    let archive: Cotar
    do {
      let options = Cotar.OpenOptions(
        speculativeBytes: speculative, loadIndexIntoMemory: loadIntoMemory, lookup: .init(windowSlots: windowSlots),
        indexCache: useCache ? BlockCache(capacityBytes: 4096) : nil, indexBlockSize: blockSize)
      archive = try await Cotar.open(source, options: options)
    } catch let error as CotarError {
      invariant(indexErrorCodes.contains(error.code), "open failed with \(error.code): \(error)")
      return false
    }
    let index = archive.index
    let total = UInt64(bytes.count)
    invariant(index.baseOffset + index.header.indexSize == total, "index at \(index.baseOffset) + \(index.header.indexSize) does not end the file (\(total))")
    invariant(archive.dataLimit == index.baseOffset, "data limit \(String(describing: archive.dataLimit)) is not the index start")
    let slotsStart = index.baseOffset + 8
    let slotsEnd = slotsStart + index.slotCount * 16
    let block = UInt64(blockSize)
    source.allowed = useCache ? (slotsStart / block * block)..<min(total, (slotsEnd + block - 1) / block * block) : slotsStart..<slotsEnd
    let hashes = probeHashes(bytes, slotsStart: Int(slotsStart), slotCount: index.slotCount, paths: paths)
    for hash in hashes {
      let expected = referenceLookup(bytes, slotsStart: Int(slotsStart), slotCount: index.slotCount, hash: hash)
      let found = try await index.lookup(hash: hash)
      invariant(found == expected, "lookup(\(hash)) = \(String(describing: found)), probe = \(String(describing: expected))")
    }
    for path in paths {
      let expected = referenceLookup(bytes, slotsStart: Int(slotsStart), slotCount: index.slotCount, hash: PathHash.fnv1a64(bytes: path))
      source.allowed = 0..<total
      do {
        let entry = try await archive.entry(pathBytes: path)
        invariant(entry == expected, "entry(\(path)) = \(String(describing: entry)), probe = \(String(describing: expected))")
        if let entry {
          invariant(entry.offset + entry.size <= index.baseOffset, "entry \(entry) runs into the index at \(index.baseOffset)")
          let read = try await archive.read(pathBytes: path)
          invariant(read?.count == Int(entry.size), "read \(String(describing: read?.count)) bytes of \(entry.size)")
        }
      } catch let error as CotarError {
        guard let expected, expected.offset + expected.size > index.baseOffset else {
          fatalError("invariant violated: entry(\(path)) threw \(error) for an entry inside the tar part")
        }
        invariant(error.code == .corruptIndex, "entry past the tar part reported as \(error.code)")
      }
    }
    return true
  }
  if case .failure(let error) = result { fatalError("invariant violated: lookup threw \(error)") }
  return 0
}
