extension GzipTarSource {
  /// Inflates the stored window of every seek point, as a read that starts there would, and
  /// describes each one that does not inflate (zlib stream and Adler-32 checked) to its recorded
  /// length. A sequential scan of the tar never uses the windows, so `cotar validate` checks
  /// them here.
  ///
  /// - Returns: one line per damaged window, naming the seek point, its uncompressed offset
  ///   and the index byte where its window is stored; empty when all are sound.
  /// - Throws: what the index source throws for a read.
  public func windowProblems() async throws -> [String] {
    var problems: [String] = []
    for (number, point) in points.enumerated() where point.kind == .blockBoundary && point.windowLength > 0 {
      do {
        _ = try await window(of: point)
      } catch let error as CotarError where error.code == .corruptIndex {
        problems.append(
          "seek point \(number) (tar byte \(point.uncompressedOffset)): its window at index byte \(header.windowsOffset + point.windowOffset) does not inflate to \(point.windowRawLength) bytes")
      }
    }
    return problems
  }
}
