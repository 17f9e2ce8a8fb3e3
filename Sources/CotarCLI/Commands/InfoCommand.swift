import ArgumentParser
import CotarCore

/// `cotar info ARCHIVE`: prints the index's figures.
struct InfoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Print the index version, slots, entries, load factor and probe distances.")

  @OptionGroup var archive: ArchiveArguments

  func run() async throws {
    let lines = try await archive.withArchive { location in
      let cotar = try await location.open()
      let stats = try await cotar.index.statistics()
      return [
        "version: \(cotar.index.header.version)",
        "layout: \(layoutDescription(cotar))",
        "slots: \(stats.slots)",
        "entries: \(stats.entries)",
        "load factor: \(formatted(stats.loadFactor))",
        "packing: " + (stats.packing.map { formatted($0) + "%" } ?? "-"),
        "longest probe: \(stats.longestProbe)",
        "mean probe: \(formatted(stats.meanProbe))",
        "index bytes: \(stats.indexBytes)",
      ]
    }
    try writeStandardOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
  }
}

/// `value` with three decimals.
func formatted(_ value: Double) -> String {
  let scaled = Int((value * 1000).rounded())
  let fraction = String(scaled % 1000)
  return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}
