#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Bytes of index slots held in memory: a copy in an aligned allocation, or a read-only
/// mapping of the index file. Immutable after creation; freed (or unmapped) with the last
/// reference.
final class SlotMemory: @unchecked Sendable {
  /// The first byte of the slots.
  let base: UnsafeRawPointer
  /// Bytes of slots (a multiple of 16).
  let count: Int
  /// How the memory is released.
  private let owner: Owner

  private enum Owner {
    case allocated(UnsafeMutableRawPointer)
    case mapped(UnsafeRawPointer, length: Int)
  }

  /// The slots as a buffer.
  var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  /// A copy of `bytes`, 64-byte aligned (a slot never straddles a cache line).
  ///
  /// No huge-page advice: at 1M entries (a 20 MB table) lookups in a copy advised
  /// `MADV_HUGEPAGE` were no faster than in a 4 KiB-page mapping (Benchmarks/README.md).
  init(copying bytes: some Collection<UInt8>) {
    let count = bytes.count
    let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    let target = UnsafeMutableRawBufferPointer(start: memory, count: count)
    _ = target.initializeMemory(as: UInt8.self, from: bytes)
    self.base = UnsafeRawPointer(memory)
    self.count = count
    self.owner = .allocated(memory)
  }

  /// Takes over a mapping of `length` bytes at `mapping`; the slots are `count` bytes from
  /// `mapping + skip`. The mapping is removed with the last reference.
  init(mapping: UnsafeRawPointer, length: Int, skip: Int, count: Int) {
    self.base = mapping + skip
    self.count = count
    self.owner = .mapped(mapping, length: length)
  }

  deinit {
    switch owner {
    case .allocated(let memory): memory.deallocate()
    case .mapped(let mapping, let length): Syscall.unmap(mapping, length: length)
    }
  }

  /// Whether the slots are a mapping of the file (not a copy).
  var isMapped: Bool {
    if case .mapped = owner { return true }
    return false
  }
}
