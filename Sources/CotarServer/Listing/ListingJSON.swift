import CotarCore
import NIOCore

/// The JSON body of a directory listing, produced lazily in chunks of bounded size.
///
/// The shape is linz/cotar's: `{"files":["<base>/v1/list/<dir>/","<base>/v1/file/<path>",…]}`,
/// sub-directories as `list` URLs ending in `/`, files as `file` URLs, paths with a leading
/// `/` and percent-encoded (so the JSON is ASCII and needs no escaping beyond the base URL).
/// Each chunk holds at most ``chunkSize`` bytes (or one URL, if a single URL is longer), so
/// a listing of a million files is never one string in memory.
public struct ListingJSON: Sequence, Sendable {
  /// The directory whose children are listed.
  public let directory: ArchiveListing.Directory
  /// Prefix of every URL, such as `http://localhost:8080` or empty for relative URLs.
  public let baseURL: String
  /// The route segment between `/v1` and `file`/`list`: empty, or `/<archive-name>`.
  public let archiveSegment: String
  /// Largest chunk in bytes.
  public let chunkSize: Int

  /// Creates the body for `directory`.
  public init(directory: ArchiveListing.Directory, baseURL: String, archiveSegment: String, chunkSize: Int = 64 << 10) {
    self.directory = directory
    self.baseURL = baseURL
    self.archiveSegment = archiveSegment
    self.chunkSize = Swift.max(256, chunkSize)
  }

  /// Makes an iterator over the chunks.
  public func makeIterator() -> Iterator {
    let base = Array(JSONText.escaped(baseURL).utf8) + Array("/v1".utf8)
    var segment: [UInt8] = []
    PercentEncoding.appendEncodedPath(Array(archiveSegment.utf8), to: &segment)
    return Iterator(
      children: directory.makeIterator(), filePrefix: base + segment + Array("/file/".utf8),
      listPrefix: base + segment + Array("/list/".utf8), chunkSize: chunkSize)
  }

  /// Produces the chunks of a listing body.
  public struct Iterator: IteratorProtocol {
    var children: ArchiveListing.Directory.Iterator
    let filePrefix: [UInt8]
    let listPrefix: [UInt8]
    let chunkSize: Int
    var state = State.start
    var pending: [UInt8] = []
    var needsComma = false

    enum State { case start, items, done }

    /// The next chunk, or `nil` after the closing `]}`.
    public mutating func next() -> ByteBuffer? {
      switch state {
      case .done: return nil
      case .start:
        pending = Array(#"{"files":["#.utf8)
        state = .items
      case .items:
        break
      }
      var chunk = pending
      pending = []
      chunk.reserveCapacity(chunkSize + 256)
      while true {
        guard let child = children.next() else {
          chunk += Array("]}".utf8)
          state = .done
          return ByteBuffer(bytes: chunk)
        }
        let itemStart = chunk.count
        if needsComma { chunk.append(UInt8(ascii: ",")) }
        needsComma = true
        chunk.append(UInt8(ascii: "\""))
        switch child {
        case .file(let path):
          chunk += filePrefix
          PercentEncoding.appendEncodedPath(path, to: &chunk)
        case .directory(let path):
          chunk += listPrefix
          PercentEncoding.appendEncodedPath(path, to: &chunk)
        }
        chunk.append(UInt8(ascii: "\""))
        if chunk.count > chunkSize, itemStart > 0 {
          // Keep this chunk within the limit: the item that overflowed starts the next one.
          pending = Array(chunk[itemStart...])
          chunk.removeSubrange(itemStart...)
          return ByteBuffer(bytes: chunk)
        }
      }
    }
  }
}
