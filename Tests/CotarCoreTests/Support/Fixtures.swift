import CotarCore
import Foundation

/// The repository's `Fixtures/` folder, found from this file's path (no bundle needed).
let fixturesDirectory: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<4 { url.deleteLastPathComponent() }
  return url.appendingPathComponent("Fixtures").path
}()

/// The full path of a fixture file.
func fixturePath(_ name: String) -> String { fixturesDirectory + "/" + name }

/// The bytes of a fixture file.
func fixtureBytes(_ name: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixturePath(name))))
}

/// `Fixtures/manifest.json`, written by `Fixtures/reference_index.py`.
struct FixtureManifest: Decodable {
  struct Entry: Decodable, Sendable {
    var path_hex: String
    var kind: String
    var offset: UInt64
    var size: UInt64

    var pathBytes: [UInt8] { hexBytes(path_hex) }
  }

  struct Fixture: Decodable, Sendable, CustomStringConvertible {
    var name: String
    var valid: Bool
    var index: String?
    var co: String?
    var slots: Int?
    var skipped: Int?
    var entries: [Entry]?
    var absent: [String]?
    var error: String?
    var error_offset: UInt64?
    var index_error: String?

    var description: String { name }
  }

  var fixtures: [Fixture]

  static let shared: FixtureManifest = {
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("manifest.json")))
      return try JSONDecoder().decode(FixtureManifest.self, from: data)
    } catch {
      fatalError("cannot read Fixtures/manifest.json: \(error)")
    }
  }()

  static var valid: [Fixture] { shared.fixtures.filter(\.valid) }
  static var indexed: [Fixture] { valid.filter { $0.index != nil } }
  static var broken: [Fixture] { shared.fixtures.filter { !$0.valid } }
  static var combined: [Fixture] { valid.filter { $0.co != nil } }
}


/// Bytes from a hex string.
func hexBytes(_ hex: String) -> [UInt8] {
  var bytes: [UInt8] = []
  var index = hex.startIndex
  while index < hex.endIndex {
    let next = hex.index(index, offsetBy: 2)
    bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
    index = next
  }
  return bytes
}

/// The entries a scan indexes, after "last occurrence wins" and hard-link resolution.
func indexedEntries(of source: any RangeSource) async throws -> [(path: [UInt8], entry: CotarEntry, kind: TarEntry.Kind)] {
  var order: [[UInt8]] = []
  var latest: [[UInt8]: (CotarEntry, TarEntry.Kind)] = [:]
  _ = try await TarScanner(source: source).scan { member in
    guard member.kind.isIndexed else { return }
    let location: CotarEntry
    if member.kind == .hardLink {
      location = latest[member.linkTargetBytes ?? []]?.0 ?? CotarEntry(offset: 0, size: 0)
    } else {
      location = CotarEntry(offset: member.dataOffset, size: member.size)
    }
    order.removeAll { $0 == member.pathBytes }
    order.append(member.pathBytes)
    latest[member.pathBytes] = (location, member.kind)
  }
  return order.compactMap { path in latest[path].map { (path, $0.0, $0.1) } }
}
