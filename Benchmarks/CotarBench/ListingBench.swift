import AsyncHTTPClient
import CotarCore
import CotarHTTP
import CotarTestSupport
import Foundation

/// Section 5: listing one directory of the corpus `.tar.co` (with a name table, SPEC §12)
/// over HTTP on 127.0.0.1: requests and bytes of a cold `ls PREFIX`, against downloading the
/// whole archive; and the table's size per entry.
enum ListingBench {
  static func run(corpus: Corpus) async throws -> Section {
    var section = Section(key: "listing", title: "5. Listing over HTTP (\(corpus.entryCount) entries, name table)")
    // The corpus .tar.co has no table: write tar + table + index next to it.
    let path = corpus.tarPath + ".names.co"
    let tar = try FileSource(path: corpus.tarPath)
    let built = try await CotarIndexBuilder.build(tar: tar, options: Corpus.indexOptions, names: .init())
    let names = built.names ?? []
    var bytes = try await tar.read(0..<(try await tar.size()))
    bytes += names
    bytes += built.index.bytes
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }

    try await withBenchServer { server, client in
      try await server.putFile("listing.tar.co", path: path)
      // The directory of the middle entry.
      let middle = corpus.entries[corpus.entries.count / 2].path
      let prefix = String(middle[..<(middle.lastIndex(of: "/") ?? middle.startIndex)])
      var requests: [Double] = []
      var transferred: [Double] = []
      var children = 0
      for _ in 0..<5 {
        let source = CountingSource(try HTTPRangeSource(url: server.url("listing.tar.co"), client: client))
        let cotar = try await Cotar.open(source)
        guard let table = try await cotar.nameTable() else { throw BenchError("no name table in \(path)") }
        children = try await table.listdir(prefix).count
        requests.append(Double(source.counts.reads))
        transferred.append(Double(source.counts.bytes))
      }
      section.figures.append(Figure(key: "listing.dir_requests", label: "ls PREFIX, cold: requests", unit: "requests", samples: requests))
      section.figures.append(Figure(key: "listing.dir_bytes", label: "ls PREFIX, cold: bytes", unit: "bytes", samples: transferred))
      section.figures.append(
        Figure(key: "listing.archive_bytes", label: "whole archive", unit: "bytes", samples: [Double(bytes.count)]))
      section.figures.append(
        Figure(
          key: "listing.table_bytes_per_entry", label: "name table size", unit: "B/entry",
          samples: [Double(names.count) / Double(max(1, corpus.entryCount))]))
      section.notes.append("ls '\(prefix)' lists \(children) children; the table is \(names.count) bytes")
      // The size budget (issue 13): at most about 1.5 × `tar -tf X | gzip -9`.
      if Spawn.isAvailable("tar") && Spawn.isAvailable("gzip") {
        let quoted = "'" + corpus.tarPath.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let listed = try Spawn.run("/bin/sh", ["-c", "tar -tf \(quoted) | gzip -9 | wc -c"], captureOutput: true)
        if listed.status == 0, let gzipped = Double(listed.output.trimmingCharacters(in: .whitespacesAndNewlines)), gzipped > 0 {
          section.ratios.append(
            Ratio(
              key: "listing.table_vs_gzip_listing", label: "name table / (tar -tf | gzip -9) bytes, budget ≤ 1.5",
              value: Double(names.count) / gzipped, target: nil))
          section.notes.append("tar -tf | gzip -9 is \(Int(gzipped)) bytes")
        }
      } else {
        section.notes.append("tar or gzip not found; listing.table_vs_gzip_listing skipped")
      }
    }
    return section
  }
}
