// Helpers shared by the index fuzz targets (index_reader, tarco_locator).

/// The entry a linear probe of the slot table in `bytes` (slots starting at `slotsStart`)
/// finds for `hash`: the reference the library's lookups are checked against.
func referenceLookup(_ bytes: [UInt8], slotsStart: Int, slotCount: UInt64, hash: UInt64) -> CotarEntry? {
  guard slotCount > 0, hash != 0 else { return nil }
  var slot = hash % slotCount
  for _ in 0..<slotCount {
    let at = slotsStart + Int(slot) * 16
    var slotHash: UInt64 = 0
    for index in 0..<8 { slotHash |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
    if slotHash == hash {
      var block: UInt64 = 0
      var size: UInt64 = 0
      for index in 0..<4 {
        block |= UInt64(bytes[at + 8 + index]) << (8 * UInt64(index))
        size |= UInt64(bytes[at + 12 + index]) << (8 * UInt64(index))
      }
      return CotarEntry(offset: block * 512, size: size)
    }
    if slotHash == 0 { return nil }
    slot = (slot + 1) % slotCount
  }
  return nil
}

/// Hashes worth looking up: those of `paths`, those stored in the first slots (so lookups
/// hit), and a few arbitrary values.
func probeHashes(_ bytes: [UInt8], slotsStart: Int, slotCount: UInt64, paths: [[UInt8]]) -> [UInt64] {
  var hashes = paths.map { PathHash.fnv1a64(bytes: $0) }
  for slot in 0..<min(Int(slotCount), 32) {
    var slotHash: UInt64 = 0
    for index in 0..<8 { slotHash |= UInt64(bytes[slotsStart + slot * 16 + index]) << (8 * UInt64(index)) }
    hashes.append(slotHash)
    hashes.append(slotHash &+ 1)
  }
  hashes += [0, 1, UInt64.max, slotCount, slotCount &- 1]
  return hashes
}

/// Splits the fuzz input into index bytes and up to 16 paths: the last byte says how many
/// bytes at the end (before it) are newline-separated paths.
func splitPaths(_ rest: [UInt8]) -> (bytes: [UInt8], paths: [[UInt8]]) {
  guard let count = rest.last else { return ([], []) }
  let body = rest.dropLast()
  let pathBytes = min(Int(count), body.count)
  let paths = body.suffix(pathBytes).split(separator: 0x0A, omittingEmptySubsequences: false).prefix(16).map { Array($0) }
  return (Array(body.dropLast(pathBytes)), paths)
}

/// Errors an index reader may report for malformed bytes.
let indexErrorCodes: Set<CotarError.Code> = [.truncated, .invalidMagic, .unsupportedVersion, .corruptIndex]
