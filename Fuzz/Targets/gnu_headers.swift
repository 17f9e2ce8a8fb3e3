// Fuzz target: GNU long names (`L`), long links (`K`), old sparse headers (`S`, with their
// sparse-map extension blocks), dump directories (`D`), v7 directories and volume headers,
// through the tar scanner.
//
// The input is turned into a well-formed GNU archive before scanning: at every header
// position the typeflag is picked from the GNU set, the size is made to fit the input, the
// magic is GNU's and the checksum is correct, so the fuzzer spends its time on the extended
// header logic rather than on checksums. A model of the archive built alongside gives the
// expected entries.
//
// Invariants checked beyond "no crash":
// - the scanner returns exactly the modelled entries: path (long name > name field, cut at
//   NUL), link target (long link > link field), kind, data offset and size;
// - an `L`/`K` header with no member after it is `.invalidTar`, a sparse header whose
//   extension blocks run past the end is `.truncated`; nothing else fails;
// - the general entry invariants of the tar_scanner target (inside the input, ordered, …).

let gnuTypes: [UInt8] = Array("LKS0\0" .utf8) + [UInt8(ascii: "5"), UInt8(ascii: "D"), UInt8(ascii: "1"),
  UInt8(ascii: "2"), UInt8(ascii: "7"), UInt8(ascii: "V"), UInt8(ascii: "M"), UInt8(ascii: "6")]

struct ModelEntry: Equatable, CustomStringConvertible {
  var path: [UInt8]
  var kind: TarEntry.Kind
  var dataOffset: UInt64
  var size: UInt64
  var link: [UInt8]?
  var description: String { "\(String(decoding: path, as: UTF8.self)) \(kind) @\(dataOffset) +\(size)" }
}

func cString(_ bytes: ArraySlice<UInt8>) -> [UInt8] { Array(bytes.prefix(while: { $0 != 0 })) }

/// The value of an octal numeric field (digits, then NUL/space padding), if it is one.
func octal(_ field: ArraySlice<UInt8>) -> UInt64? {
  let digits = field.prefix(while: { $0 >= 0x30 && $0 <= 0x37 })
  guard !digits.isEmpty, digits.count <= 11, field.dropFirst(digits.count).allSatisfy({ $0 == 0 || $0 == 0x20 }) else { return nil }
  return digits.reduce(0) { $0 * 8 + UInt64($1 - 0x30) }
}

func writeOctal(_ value: UInt64, into block: inout [UInt8], at start: Int, width: Int) {
  var digits = Array(String(value, radix: 8).utf8)
  while digits.count < width - 1 { digits.insert(0x30, at: 0) }
  for index in 0..<(width - 1) { block[start + index] = digits[index] }
  block[start + width - 1] = 0
}

/// Rewrites `input` into a GNU archive and models what a scan must return.
func buildArchive(_ input: [UInt8]) -> (archive: [UInt8], entries: [ModelEntry], danglingExtended: Bool, truncated: Bool) {
  var out: [UInt8] = []
  var entries: [ModelEntry] = []
  var longName: [UInt8]?
  var longLink: [UInt8]?
  var position = 0
  while position + 512 <= input.count {
    var block = Array(input[position..<(position + 512)])
    // Real GNU typeflags and sizes are kept (so fixture archives stay as they are); other
    // values are mapped into the GNU set and into the input.
    let type = gnuTypes.contains(block[156]) ? block[156] : gnuTypes[Int(block[156]) % gnuTypes.count]
    block[156] = type
    for (index, byte) in "ustar  \0".utf8.enumerated() { block[257 + index] = byte }
    // An `S` header with byte 482 set is followed by sparse-map extension blocks (byte 504
    // of each: another follows); the data comes after them.
    var start = position + 512
    var extensionBlocks: [UInt8] = []
    var truncated = false
    if type == UInt8(ascii: "S") && block[482] != 0 {
      while true {
        guard start + 512 <= input.count else {
          truncated = true
          break
        }
        let extensionBlock = input[start..<(start + 512)]
        extensionBlocks += extensionBlock
        start += 512
        if extensionBlock[extensionBlock.startIndex + 504] == 0 { break }
      }
    }
    let remaining = UInt64(input.count - min(start, input.count))
    let raw = UInt64(block[124]) | UInt64(block[125]) << 8 | UInt64(block[126]) << 16
    let name = cString(block[0..<100])
    let path = longName ?? name
    let isV7Directory = type == 0 && path.last == UInt8(ascii: "/")
    let isExtended = type == UInt8(ascii: "L") || type == UInt8(ascii: "K")
    let hasData = !"123456".utf8.contains(type) && !isV7Directory
    let limit = isExtended ? min(remaining + 1, 4096) : hasData ? remaining + 1 : 4096
    let stored = octal(block[124..<136])
    let size: UInt64 = if let stored, stored < limit { stored } else { raw % limit }
    writeOctal(size, into: &block, at: 124, width: 12)
    // An old GNU sparse header's real size (bytes 483–494) is what a listing shows; the model
    // keeps it equal to the stored size (its parsing is fuzzed by tar_scanner).
    if type == UInt8(ascii: "S") { writeOctal(size, into: &block, at: 483, width: 12) }
    for index in 148..<156 { block[index] = 0x20 }
    let sum = block.reduce(0) { $0 + Int($1) }
    writeOctal(UInt64(sum), into: &block, at: 148, width: 7)
    block[155] = 0x20
    out += block
    out += extensionBlocks
    if truncated { return (out, entries, false, true) }
    let dataOffset = UInt64(start)
    let data = input[start..<(start + Int(hasData || isExtended ? size : 0))]
    if type == UInt8(ascii: "L") {
      longName = cString(data)
    } else if type == UInt8(ascii: "K") {
      longLink = cString(data)
    } else {
      let kind: TarEntry.Kind =
        switch type {
        case _ where isV7Directory: .directory
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): .file
        case UInt8(ascii: "1"): .hardLink
        case UInt8(ascii: "2"): .symbolicLink
        case UInt8(ascii: "5"), UInt8(ascii: "D"): .directory
        case UInt8(ascii: "6"): .fifo
        case UInt8(ascii: "S"): .sparse
        default: .other(type)
        }
      let isLink = kind == .hardLink || kind == .symbolicLink
      entries.append(
        ModelEntry(
          path: path, kind: kind, dataOffset: dataOffset, size: hasData && kind != .hardLink ? size : 0,
          link: isLink ? (longLink ?? cString(block[157..<257])) : nil))
      longName = nil
      longLink = nil
    }
    let used = hasData || isExtended ? Int((size + 511) / 512 * 512) : 0
    let copied = min(used, input.count - start)
    out += input[start..<(start + copied)]
    position = start + used
  }
  return (out, entries, longName != nil || longLink != nil, false)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGNUHeaders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let (archive, expected, dangling, truncated) = buildArchive(FuzzInput(data, size).rest)
  let outcome = scanOutcome(archive, readAhead: 512 * (1 + archive.count % 4), useSequence: false)
  checkEntries(outcome, size: archive.count)
  let found = outcome.entries.map {
    ModelEntry(path: $0.pathBytes, kind: $0.kind, dataOffset: $0.dataOffset, size: $0.size, link: $0.linkTargetBytes)
  }
  if archive.isEmpty {
    // A 0-byte file is not a tar (GNU tar and tarfile agree).
    invariant(outcome.errorCode == .invalidTar && outcome.entries.isEmpty, "an empty file was accepted: \(outcome)")
  } else if truncated {
    invariant(outcome.errorCode == .truncated, "truncated sparse extension blocks accepted: \(outcome)")
    invariant(found == expected, "entries before the truncated sparse header differ")
  } else if dangling {
    invariant(outcome.errorCode == .invalidTar, "dangling long name/link accepted: \(outcome)")
    invariant(found == Array(expected.prefix(found.count)), "entries before the dangling header differ")
  } else {
    invariant(outcome.errorCode == nil, "scan of a well-formed GNU archive failed: \(outcome) (model: \(expected))")
    invariant(found == expected, "scanner \(found) vs model \(expected)")
  }
  return 0
}
