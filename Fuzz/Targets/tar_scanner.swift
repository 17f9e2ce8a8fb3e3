// Fuzz target: the tar scanner fed whole archives (v7, ustar, GNU, PAX, anything).
//
// Invariants checked beyond "no crash":
// - every entry lies inside the input: header and data offsets block-aligned, header before
//   data, data end within the input; entries in increasing header order;
// - the summary agrees with the entries (member count, skipped kinds) and ends inside the input;
// - errors are CotarError with an offset inside the input;
// - the result does not depend on the read-ahead size (1 MiB vs one to three blocks), and the
//   async `entries()` sequence yields exactly what `scan` does;
// - the scanner never reads outside the input (CheckedSource);
// - the index build's in-place path (members of the common shape parsed in the read-ahead
//   buffer) gives the index, summary or error that scan + add(_:) gives, from a CheckedSource
//   and from a MemorySource (whose read-ahead buffer is reused), with two read-ahead sizes,
//   with and without a name table (which must equal NameTableBuilder.add(_:) of every member).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarScanner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = FuzzInput(data, size).rest
  let wide = scanOutcome(bytes, readAhead: 1 << 20, useSequence: false)
  checkEntries(wide, size: bytes.count)
  let narrow = scanOutcome(bytes, readAhead: 512 * (1 + bytes.count % 3), useSequence: false)
  invariant(wide == narrow, "read-ahead changes the result: \(wide) vs \(narrow)")
  let sequence = scanOutcome(bytes, readAhead: 1 << 20, useSequence: true)
  invariant(sequence.entries == wide.entries && sequence.errorCode == wide.errorCode, "entries() differs from scan")
  let reference = buildOutcome(bytes, readAhead: 1 << 20, general: true, synchronous: false, names: true)
  var withoutNames = reference
  withoutNames.names = nil
  for (readAhead, synchronous) in [(1 << 20, false), (512 * (1 + bytes.count % 3), true)] {
    for names in [false, true] {
      let built = buildOutcome(bytes, readAhead: readAhead, general: false, synchronous: synchronous, names: names)
      let expected = names ? reference : withoutNames
      invariant(built == expected, "the in-place build differs from scan + add: \(built) vs \(expected)")
    }
  }
  return 0
}
