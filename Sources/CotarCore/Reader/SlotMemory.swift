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

  /// Copies with at least this many bytes are 2 MiB-aligned and advised to use huge pages: a
  /// lookup in a table of several MiB misses the TLB as well as the cache on 4 KiB pages.
  static let hugePageThreshold = 2 << 20
  /// The size of a transparent huge page on x86-64 and most arm64 kernels.
  static let hugePageSize = 2 << 20

  /// The slots as a buffer.
  var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  /// A copy of `bytes` (aligned; large copies get huge-page advice, best effort).
  init(copying bytes: some Collection<UInt8>) {
    let count = bytes.count
    let alignment = count >= Self.hugePageThreshold ? Self.hugePageSize : 64
    let rounded = count >= Self.hugePageThreshold ? (count + Self.hugePageSize - 1) / Self.hugePageSize * Self.hugePageSize : count
    let memory = UnsafeMutableRawPointer.allocate(byteCount: max(rounded, 1), alignment: alignment)
    if count >= Self.hugePageThreshold {
      // Advice before the first touch, so the copy faults in huge pages.
      try? Syscall.advise(UnsafeRawPointer(memory), length: rounded, .hugePages)
    }
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
