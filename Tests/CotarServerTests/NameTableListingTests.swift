import CotarCore
import CotarTestSupport
import Testing

@testable import CotarServer

@Suite("Listing from the name table")
struct NameTableListingTests {
  @Test("an archive with a table is listed without scanning the tar; without one, no scan when refused")
  func listingFromTable() async throws {
    var tar = TestTar()
    for index in 0..<300 { tar.add("dir\(index % 3)/file\(index).txt", "content \(index)") }
    tar.add(Array("dir0/link".utf8), typeflag: UInt8(ascii: "2"), link: Array("file0.txt".utf8))
    let built = try await CotarIndexBuilder.build(tar: MemorySource(tar.finished), names: .init())
    let withTable = CountingSource(MemorySource(tar.finished + (built.names ?? []) + built.index.bytes, identity: "t.tar.co"))
    let served = try await ServedArchive.open(name: "t.tar.co", sources: .init(tar: withTable, index: .trailing), scanForListing: false)
    let listing = try #require(served.listing)
    #expect(listing.count == 300)
    let children = Array(try #require(listing.directory(Array("dir1".utf8))))
    #expect(children.count == 100)
    // Open (suffix) and the table (trailer + blocks): no walk of the 300 tar headers.
    #expect(withTable.counts.bytes < UInt64(tar.finished.count))

    let plain = MemorySource(tar.finished + built.index.bytes, identity: "p.tar.co")
    #expect(try await ServedArchive.open(name: "p.tar.co", sources: .init(tar: plain, index: .trailing), scanForListing: false).listing == nil)
    #expect(try await ServedArchive.open(name: "p.tar.co", tar: plain).listing?.count == 300)
  }
}
