// Fuzz target: the `.tar.gz.index` reader (SPEC §13): `GzipArchiveIndex.open` (header,
// seek-point table, v2 part) and reads of the uncompressed tar through the seek points
// (`GzipTarSource.read`: zlib primed with `inflatePrime` and `inflateSetDictionary`).
//
// Input: [speculative-size selector][archive length, u32 LE][archive bytes][index bytes].
//
// Invariants checked beyond "no crash":
// - open fails only with a CotarError of an index kind, else the parsed points start at
//   (0, 0), strictly increase, lie inside the archive, and their windows inside the window
//   area; the v2 part fills the file from its offset;
// - no read of the index outside the file (CheckedSource);
// - a read of the tar returns exactly the bytes asked for, or a CotarError.

let speculativeChoices = [0, 64, 100, 1024, 64 << 10]
let openErrorCodes = indexErrorCodes.union([.limitExceeded])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzipIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let speculative = speculativeChoices[Int(input.byte()) % speculativeChoices.count]
  let archiveLength = Int(input.uint64(4))
  let rest = input.rest
  let archive = Array(rest.prefix(archiveLength))
  let indexBytes = Array(rest.dropFirst(archive.count))
  let index = CheckedSource(indexBytes, identity: "fuzz.tar.gz.index")
  let result = runBlocking { () async throws -> Bool in
    let opened: GzipArchiveIndex
    do {
      opened = try await GzipArchiveIndex.open(
        archive: MemorySource(archive, identity: "fuzz.tar.gz"), index: index, speculativeBytes: speculative)
    } catch let error as CotarError {
      invariant(openErrorCodes.contains(error.code), "open failed with \(error.code): \(error)")
      return false
    }
    let header = opened.header
    let points = opened.tar.points
    invariant(points.count == Int(header.pointCount), "\(points.count) points, header says \(header.pointCount)")
    invariant(points.first?.uncompressedOffset == 0 && points.first?.compressedBitOffset == 0, "first point not at 0")
    for (previous, next) in zip(points, points.dropFirst()) {
      invariant(next.uncompressedOffset > previous.uncompressedOffset, "uncompressed offsets do not increase")
      invariant(next.compressedBitOffset > previous.compressedBitOffset, "compressed offsets do not increase")
    }
    for point in points {
      invariant(point.compressedByteOffset < header.compressedSize, "point past the archive")
      invariant(point.windowOffset + UInt64(point.windowLength) <= header.windowsLength, "window outside the area")
    }
    invariant(
      opened.v2.baseOffset == header.v2Offset && header.v2Offset + opened.v2.header.indexSize == UInt64(indexBytes.count),
      "v2 part at \(header.v2Offset) with \(opened.v2.slotCount) slots does not fill \(indexBytes.count) bytes")
    // Reads of the tar: whatever the bytes, exactly the count asked for, or a CotarError.
    let total = header.uncompressedSize
    let ends: [UInt64] = [min(total, 512), min(total, 70_000), total]
    for end in ends where end > 0 {
      let start = end > 4096 ? end - 4096 : 0
      do {
        let bytes = try await opened.tar.read(start..<end)
        invariant(UInt64(bytes.count) == end - start, "read \(bytes.count) bytes of \(start)..<\(end)")
      } catch is CotarError {
      }
    }
    _ = try? await opened.nameTable()
    return true
  }
  if case .failure(let error) = result { invariant(error is CotarError, "non-Cotar error \(error)") }
  return 0
}
