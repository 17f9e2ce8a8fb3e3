#if canImport(Glibc)
  import Glibc
#endif

/// Makes glibc return large freed blocks to the system at once.
///
/// Streaming a large remote entry allocates and frees a few MiB per range part on several
/// threads. glibc raises its mmap threshold after the first such block is freed, so later
/// parts come from the heap arenas and their memory is kept after `free`: `cotar get` of a
/// 1 GB entry over HTTP then peaked at 115 MB instead of 68 MB. Fixing the threshold at
/// 1 MiB (`mallopt(M_MMAP_THRESHOLD)`, which also turns the dynamic adjustment off) keeps
/// the peak at what the stream holds. `mallopt` is looked up at run time: Swift's Glibc
/// module does not declare it. Elsewhere this does nothing.
func fixAllocatorThresholdForStreaming() {
  #if os(Linux) && canImport(Glibc)
    typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
    let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>
    _ = mallopt(mmapThreshold, 1 << 20)
  #endif
}
