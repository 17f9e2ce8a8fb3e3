import CotarCore
import CotarTestSupport
import Foundation
import Testing

/// `cotar extract URL.tar.gz` and `cotar get URL.tar.gz … -o DIR`: the whole archive
/// transferred about once.
@Suite("cotar extract of a remote .tar.gz", .timeLimit(.minutes(5)))
struct GzipExtractTransferTests {
  /// Writes `small` text files (up to `smallMax` bytes, spread over `directories`
  /// directories) and, after the ones numbered in `bigAfter`, a random file of `bigSize` bytes
  /// and a little more, under `directory`; packs them with GNU tar and gzip, in that order
  /// (not path order), as `name` there. Returns the files, in archive order.
  static func makeTarGz(
    _ name: String, in directory: URL, seed: UInt64, small: Int, directories: Int, smallMax: UInt64, bigAfter: Set<Int>,
    bigSize: Int
  ) async throws -> [(path: String, bytes: [UInt8])] {
    let top = String(name.prefix { $0 != "." })
    var random = SplitMix64(seed: seed)
    var files: [(path: String, bytes: [UInt8])] = []
    for number in 0..<small {
      let size = Int(random.next() % smallMax)
      files.append(("\(top)/d\(number % directories)/f\(number).txt", (0..<size).map { _ in UInt8(ascii: "a") + UInt8(random.next() % 20) }))
      if bigAfter.contains(number) {
        var big = [UInt8](repeating: 0, count: bigSize + Int(random.next() % 100_000))
        for start in stride(from: 0, to: big.count, by: 8) {
          withUnsafeBytes(of: random.next()) { word in
            for (offset, byte) in word.enumerated() where start + offset < big.count { big[start + offset] = byte }
          }
        }
        files.append(("\(top)/big\(number).bin", big))
      }
    }
    for file in files {
      let url = directory.appendingPathComponent(file.path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(file.bytes).write(to: url)
    }
    try Data(files.map(\.path).joined(separator: "\n").utf8).write(to: directory.appendingPathComponent("list.txt"))
    let made = try await CLI.shell("tar cf - -T list.txt | gzip > \(name)", in: directory)
    #expect(made.status == 0, "\(made.stderr)")
    return files
  }

  @Test("extract of a whole .tar.gz, and get -o DIR of all its paths in path order, over HTTP fetch at most 1.05× the archive and never the same range twice (several batches, streamed large files)")
  func wholeArchiveOnce() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // More than one extract batch (1,024 entries) of small files, in an archive order that is
    // not path order, and two files large enough to be streamed in parts (over 8 MiB).
    let files = try await Self.makeTarGz(
      "big.tar.gz", in: directory, seed: 303, small: 1_300, directories: 7, smallMax: 3_000, bigAfter: [400, 900],
      bigSize: 9 << 20)
    let indexed = try await CLI.run(["index", "big.tar.gz", "--seek-spacing", "256KiB"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    let archive = try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz")))
    try await withRangeServer { server in
      server.put("big.tar.gz", archive)
      server.put("big.tar.gz.index", try [UInt8](Data(contentsOf: directory.appendingPathComponent("big.tar.gz.index"))))
      /// Checks the files extracted under `out` and the archive requests logged: no range
      /// twice, at most 1.05× the archive.
      func expectOnce(out: String, _ command: String) {
        for file in files {
          #expect(FileManager.default.contents(atPath: out + "/" + file.path).map(Array.init) == file.bytes, "\(command): \(file.path)")
        }
        let ranges = server.log.filter { $0.path == "/big.tar.gz" }.compactMap(\.range)
        #expect(Set(ranges).count == ranges.count, "\(command): the same range twice: \(ranges)")
        let fetched = ranges.reduce(0) { total, range in
          let bounds = range.dropFirst("bytes=".count).split(separator: "-").compactMap { Int($0) }
          return total + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 0)
        }
        #expect(fetched > 0)
        #expect(
          Double(fetched) <= 1.05 * Double(archive.count),
          "\(command): \(fetched) bytes of a \(archive.count)-byte archive: \(ranges)")
      }
      let out = directory.appendingPathComponent("out").path
      let result = try await CLI.run(["extract", server.url("big.tar.gz"), "-o", out, "--stats"])
      #expect(result.status == 0, "\(result.stderr)")
      expectOnce(out: out, "extract")
      // get -o DIR of every path, listed in path order: read in archive order all the same.
      try Data(files.map(\.path).sorted().joined(separator: "\n").utf8).write(to: directory.appendingPathComponent("sorted.txt"))
      server.resetLog()
      let got = directory.appendingPathComponent("got").path
      let fetched = try await CLI.run(
        ["get", server.url("big.tar.gz"), "--paths-from", directory.appendingPathComponent("sorted.txt").path, "-o", got])
      #expect(fetched.status == 0, "\(fetched.stderr)")
      expectOnce(out: got, "get --paths-from -o DIR")
    }
  }

  @Test("extract of a whole .tar.gz over HTTP reads the index's seek-point windows with at most 2 requests (the first window, then the window area once), and a cold get of one entry stays at 4 requests")
  func windowsFetchedOnce() async throws {
    let directory = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // Small text files, and two random files streamed in parts (over 8 MiB): random data is
    // stored by gzip, so most seek points inside are block boundaries with 32 KiB windows.
    let files = try await Self.makeTarGz(
      "w.tar.gz", in: directory, seed: 417, small: 600, directories: 5, smallMax: 4_000, bigAfter: [200, 400],
      bigSize: (8 << 20) + 300_000)
    let indexed = try await CLI.run(["index", "w.tar.gz", "--seek-spacing", "1MiB"], in: directory)
    #expect(indexed.status == 0, "\(indexed.stderr)")
    let index = try [UInt8](Data(contentsOf: directory.appendingPathComponent("w.tar.gz.index")))
    let header = try GzipIndexHeader(parsing: index, fileSize: UInt64(index.count))
    let windows = header.windowsOffset..<(header.windowsOffset + header.windowsLength)
    // Several windows, more than one read needs, beyond the index's first 64 KiB.
    #expect(header.pointCount > 10 && header.windowsLength > 200_000 && header.windowsLength <= 1 << 20)
    try await withRangeServer { server in
      server.put("w.tar.gz", try [UInt8](Data(contentsOf: directory.appendingPathComponent("w.tar.gz"))))
      server.put("w.tar.gz.index", index)
      /// The index ranges requested, as byte ranges.
      func indexRanges() -> [Range<UInt64>] {
        server.log.filter { $0.path == "/w.tar.gz.index" }.compactMap(\.range).compactMap { range in
          let bounds = range.dropFirst("bytes=".count).split(separator: "-").compactMap { UInt64($0) }
          return bounds.count == 2 ? bounds[0]..<(bounds[1] + 1) : nil
        }
      }
      let out = directory.appendingPathComponent("out").path
      let result = try await CLI.run(["extract", server.url("w.tar.gz"), "-o", out])
      #expect(result.status == 0, "\(result.stderr)")
      for file in files {
        #expect(FileManager.default.contents(atPath: out + "/" + file.path).map(Array.init) == file.bytes, "\(file.path)")
      }
      // Window reads lie inside the area (the prefix and the name table's read may overlap it).
      let inWindows = indexRanges().filter { windows.lowerBound <= $0.lowerBound && $0.upperBound <= windows.upperBound }
      // The first 4 windows alone (GzipWindowCache.windowsReadAlone), then the area once.
      #expect(inWindows.count <= 4 + 1, "window area \(windows): \(inWindows)")
      #expect(
        inWindows.reduce(0) { $0 + $1.count } <= Int(header.windowsLength) + 4 * GzipIndexFormat.maximumCompressedWindow,
        "\(inWindows)")
      // A cold get of one small entry after the first large file: the index prefix, one
      // slot window, the compressed range and its window.
      server.resetLog()
      let got = try await CLI.run(["get", server.url("w.tar.gz"), "w/d3/f303.txt"])
      #expect(got.status == 0, "\(got.stderr)")
      #expect(Array(got.stdout) == files.first { $0.path == "w/d3/f303.txt" }?.bytes)
      #expect(server.log.count <= 4, "\(server.log)")
      #expect(server.log.filter { $0.path == "/w.tar.gz.index" }.count <= 3, "\(server.log)")
    }
  }
}
