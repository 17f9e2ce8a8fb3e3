// Fuzz target: the sidecar index reader (`CotarIndex.open(sidecar:)`): header, footer and
// lookups over arbitrary bytes, with the hashes of arbitrary paths.
//
// Input: [speculative-size selector][window selector][cache selector] index bytes…
//        [paths, newline-separated][length of the paths part].
//
// Invariants checked beyond "no crash":
// - open fails only with a CotarError of an index kind, or returns an index whose size is
//   the file size;
// - a lookup never reads outside the slot table (the source is narrowed to it after open,
//   and to whole cache blocks around it when lookups go through a BlockCache);
// - every lookup (resident, windowed, cached, in-memory, loaded) finds exactly what a
//   linear probe of the table finds; `allRecords()` has one record per slot.

let speculativeChoices = [0, 8, 16, 24, 100, 1024, 64 << 10]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIndexReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let speculative = speculativeChoices[Int(input.byte()) % speculativeChoices.count]
  let windowSlots = 1 + Int(input.byte()) % 80
  let useCache = input.byte() & 1 == 1
  let (bytes, paths) = splitPaths(input.rest)
  let source = CheckedSource(bytes)
  let result = runBlocking { () async throws -> Bool in
    let index: CotarIndex
    do {
      index = try await CotarIndex.open(
        sidecar: source, speculativeBytes: speculative, lookupOptions: .init(windowSlots: windowSlots))
    } catch let error as CotarError {
      invariant(indexErrorCodes.contains(error.code), "open failed with \(error.code): \(error)")
      return false
    }
    invariant(index.header.indexSize == UInt64(bytes.count), "opened an index of \(index.header.indexSize) bytes from \(bytes.count)")
    invariant(index.baseOffset == 0, "sidecar base offset \(index.baseOffset)")
    let slotCount = index.slotCount
    let slotsEnd = 8 + slotCount * 16
    let blockSize: UInt64 = 64
    // Lookups read the slot table (whole cache blocks when cached); whole-table reads
    // (loading, listing records) also read the header and footer to check they agree.
    source.allowed = useCache ? 0..<min(UInt64(bytes.count), (slotsEnd + blockSize - 1) / blockSize * blockSize) : 8..<slotsEnd
    let lookupIndex = useCache ? index.cachingWindows(in: BlockCache(capacityBytes: 4096), blockSize: Int(blockSize)) : index
    for hash in probeHashes(bytes, slotsStart: 8, slotCount: slotCount, paths: paths) {
      let expected = referenceLookup(bytes, slotsStart: 8, slotCount: slotCount, hash: hash)
      let found = try await lookupIndex.lookup(hash: hash)
      invariant(found == expected, "lookup(\(hash)) = \(String(describing: found)), probe = \(String(describing: expected))")
      if case .resolved(let inMemory) = index.lookupInMemory(hash: hash) {
        invariant(inMemory == expected, "lookupInMemory(\(hash)) = \(String(describing: inMemory)), probe = \(String(describing: expected))")
      }
    }
    source.allowed = 0..<UInt64(bytes.count)
    // Whole-table reads check that the header and footer agree (SPEC §3): refusing an index
    // as corrupt there is right only when its 8-byte header and footer really differ.
    let headerMatchesFooter = bytes.prefix(8).elementsEqual(bytes.suffix(8))
    let loaded: CotarIndex
    do {
      loaded = try await index.loadedIntoMemory()
    } catch let error as CotarError where error.code == .corruptIndex && !headerMatchesFooter {
      return true
    }
    invariant(loaded.isResident, "loadedIntoMemory is not resident")
    for path in paths {
      let hash = PathHash.fnv1a64(bytes: path)
      let expected = referenceLookup(bytes, slotsStart: 8, slotCount: slotCount, hash: hash)
      let found = try await loaded.lookup(pathBytes: path)
      invariant(found == expected, "loaded lookup differs for \(path)")
    }
    let records = try await index.allRecords()
    invariant(records.count == Int(slotCount), "allRecords count \(records.count) differs from \(slotCount)")
    return true
  }
  if case .failure(let error) = result { fatalError("invariant violated: lookup threw \(error)") }
  return 0
}
