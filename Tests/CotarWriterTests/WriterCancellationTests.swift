import CotarCore
import CotarWriter
import Foundation
import Testing

@Suite("Writer: cancellation")
struct WriterCancellationTests {
  @Test("A cancelled tar write throws CancellationError and leaves no output or temporary file")
  func cancelledWriteLeavesNothing() async throws {
    let dir = try WriterTempDir()
    for i in 0..<50 { try dir.write("tree/f\(i).txt", "file \(i)") }
    let collection = try TarInputCollector(options: .init(base: dir.at("tree"))).collect(["."])
    let plan = try TarPlan.plan(collection.inputs, digest: nil)
    try FileManager.default.createDirectory(atPath: dir.at("out"), withIntermediateDirectories: true)
    let output = dir.at("out/out.tar.co")
    let task = Task {
      try await ReproducibleTar.write(plan, to: output, options: .init(combined: true)) { progress in
        if progress.members == 10 { withUnsafeCurrentTask { $0?.cancel() } }
      }
    }
    await #expect(throws: CancellationError.self) { _ = try await task.value }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.at("out")).isEmpty)
  }
}
