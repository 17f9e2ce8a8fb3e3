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
  /// List only children after this path (the `cursor` of a paged listing).
  public let cursor: [UInt8]?
  /// List at most this many children, then `"next"`: the URL of the following page.
  public let limit: Int?

  /// Creates the body for `directory`.
  ///
  /// With `limit`, the body is `{"files":[…],"next":"<url>"}` when more children follow,
  /// where the URL repeats the request with `cursor` set to the last path listed.
  public init(
    directory: ArchiveListing.Directory, baseURL: String, archiveSegment: String, chunkSize: Int = 64 << 10,
    cursor: [UInt8]? = nil, limit: Int? = nil
  ) {
    self.directory = directory
    self.baseURL = baseURL
    self.archiveSegment = archiveSegment
    self.chunkSize = Swift.max(256, chunkSize)
    self.cursor = cursor
    self.limit = limit.map { Swift.max(1, $0) }
  }

  /// Makes an iterator over the chunks.
  public func makeIterator() -> Iterator {
    let base = Array(JSONText.escaped(baseURL).utf8) + Array("/v1".utf8)
    var segment: [UInt8] = []
    PercentEncoding.appendEncodedPath(Array(archiveSegment.utf8), to: &segment)
    var directoryURL = base + segment + Array("/list/".utf8)
    PercentEncoding.appendEncodedPath(directory.prefix, to: &directoryURL)
    return Iterator(
      children: directory.makeIterator(), filePrefix: base + segment + Array("/file/".utf8),
      listPrefix: base + segment + Array("/list/".utf8), chunkSize: chunkSize, cursor: cursor, limit: limit,
      directoryURL: directoryURL, recursive: directory.recursive)
  }

  /// Produces the chunks of a listing body.
  public struct Iterator: IteratorProtocol {
    var children: ArchiveListing.Directory.Iterator
    let filePrefix: [UInt8]
    let listPrefix: [UInt8]
    let chunkSize: Int
    let cursor: [UInt8]?
    let limit: Int?
    let directoryURL: [UInt8]
    let recursive: Bool
    var state = State.start
    var pending: [UInt8] = []
    var needsComma = false
    var listed = 0
    var lastPath: [UInt8] = []

    /// The next child after the cursor, or `nil` at the end.
    mutating func nextChild() -> ArchiveListing.Child? {
      while let child = children.next() {
        guard let cursor else { return child }
        let path: [UInt8]
        switch child {
        case .file(let file): path = file
        case .directory(let directory): path = directory
        }
        if ArchiveListing.compare(path, cursor) > 0 { return child }
      }
      return nil
    }

    /// `],"next":"…"}` when a limit cut the listing short.
    func closing(more: Bool) -> [UInt8] {
      guard more else { return Array("]}".utf8) }
      var query = "limit=\(limit ?? 0)&cursor=\(HTMLText.queryValue(lastPath))"
      if recursive { query += "&recursive=true" }
      return Array(#"],"next":""#.utf8) + directoryURL + Array("?\(query)\"}".utf8)
    }

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
        if let limit, listed >= limit {
          chunk += closing(more: nextChild() != nil)
          state = .done
          return ByteBuffer(bytes: chunk)
        }
        guard let child = nextChild() else {
          chunk += Array("]}".utf8)
          state = .done
          return ByteBuffer(bytes: chunk)
        }
        listed += 1
        let itemStart = chunk.count
        if needsComma { chunk.append(UInt8(ascii: ",")) }
        needsComma = true
        chunk.append(UInt8(ascii: "\""))
        switch child {
        case .file(let path):
          chunk += filePrefix
          PercentEncoding.appendEncodedPath(path, to: &chunk)
          if limit != nil { lastPath = path }
        case .directory(let path):
          chunk += listPrefix
          PercentEncoding.appendEncodedPath(path, to: &chunk)
          if limit != nil { lastPath = path }
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
