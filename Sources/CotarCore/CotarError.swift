/// The one error type thrown by Cotar.
///
/// Every error carries a broad ``Code`` (stable, suitable for `switch` and metrics), a human
/// message that says what went wrong and what to do about it, and where known the byte
/// offset in the source, the entry path and the identity of the source (a file path or a URL
/// without credentials). Absence of a path is never an error: lookups return `nil`.
public struct CotarError: Error, Sendable, CustomStringConvertible {
  /// A broad category of failure. New codes may be added without breaking clients.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Sendable {
      case truncated, invalidMagic, unsupportedVersion, corruptIndex, invalidTar
      case hashCollision, indexTooDense, limitExceeded, io, rangeNotHonoured
      case sourceChanged, httpStatus, invalidArgument, outputExists, notFound, staleNameTable, staleIndex
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// The source ended before the bytes the format requires.
    public static let truncated = Code(.truncated)
    /// The bytes do not start (or end) with the `COT` magic.
    public static let invalidMagic = Code(.invalidMagic)
    /// The index is a version other than 2.
    public static let unsupportedVersion = Code(.unsupportedVersion)
    /// The index is internally inconsistent or does not fit its source.
    public static let corruptIndex = Code(.corruptIndex)
    /// A tar header or extended header is malformed.
    public static let invalidTar = Code(.invalidTar)
    /// Two different paths have the same 64-bit FNV-1a hash.
    public static let hashCollision = Code(.hashCollision)
    /// A path could not be placed within the maximum probe distance.
    public static let indexTooDense = Code(.indexTooDense)
    /// A value does not fit the v2 format (offset ≥ 2 TiB, size ≥ 4 GiB, too many slots).
    public static let limitExceeded = Code(.limitExceeded)
    /// An operating-system I/O call failed.
    public static let io = Code(.io)
    /// A server ignored or mangled a range request.
    public static let rangeNotHonoured = Code(.rangeNotHonoured)
    /// The source changed while it was being read (for example a new ETag).
    public static let sourceChanged = Code(.sourceChanged)
    /// A server answered with an unexpected HTTP status.
    public static let httpStatus = Code(.httpStatus)
    /// A caller passed an argument that cannot be used.
    public static let invalidArgument = Code(.invalidArgument)
    /// An output file exists and overwriting was not requested.
    public static let outputExists = Code(.outputExists)
    /// The file or object does not exist (a missing local file, HTTP 404 or 410).
    public static let notFound = Code(.notFound)
    /// A name table does not describe the tar its index describes (a stale `X.tar.names`
    /// beside a rebuilt index): its data offsets cannot be trusted.
    public static let staleNameTable = Code(.staleNameTable)
    /// A sidecar index does not describe its tar any more: the tar header block before an
    /// entry's data is not that entry's (the tar was rewritten after it was indexed), so the
    /// record's offset and size cannot be trusted (SPEC §8.5). Rebuild the index.
    public static let staleIndex = Code(.staleIndex)

    /// The code's name, such as `truncated`.
    public var description: String { value.rawValue }
  }

  /// What an error's ``offset`` counts.
  public enum OffsetSpace: Sendable, Hashable {
    /// Bytes of ``CotarError/source`` as stored (for a `.tar.gz`, its compressed bytes):
    /// shown as `byte N`.
    case source
    /// Bytes of the uncompressed tar inside a compressed source (a tar header's position in
    /// a `.tar.gz`): shown as `tar byte N (uncompressed)`.
    case uncompressedTar
  }

  /// The broad category of the failure.
  public var code: Code
  /// What went wrong and, where possible, how to fix it.
  public var message: String
  /// The byte offset in the source where the problem was found, when known.
  public var offset: UInt64?
  /// The tar entry path concerned, when known.
  public var path: String?
  /// The source concerned (file path or URL without credentials), when known.
  public var source: String?
  /// The underlying error (an errno, an HTTP client error), when there is one.
  public var cause: (any Error)?
  /// Whether the bytes read are damaged (a `.tar.gz` seek-point segment whose CRC-32 differs
  /// from its index, gzip data that does not inflate): the failure concerns only the entries
  /// whose bytes lie in the range read, and reads of other ranges can succeed. `false` for
  /// failures that make the whole index untrustworthy (`.sourceChanged`, `.staleIndex`) and
  /// for I/O and transport failures.
  public var isDamagedData = false
  /// What ``offset`` counts; `nil` when not said, read as ``OffsetSpace/source``. A reader
  /// of a compressed source labels its own offsets `.source` and the tar-level ones it
  /// passes on `.uncompressedTar`.
  public var offsetSpace: OffsetSpace?

  /// Creates an error.
  public init(
    _ code: Code, _ message: String, offset: UInt64? = nil, path: String? = nil,
    source: String? = nil, cause: (any Error)? = nil
  ) {
    self.code = code
    self.message = message
    self.offset = offset
    self.path = path
    self.source = source
    self.cause = cause
  }

  /// One line: source, entry, byte offset (`byte N`, or `tar byte N (uncompressed)`, see
  /// ``offsetSpace``), then the message.
  public var description: String {
    var parts: [String] = []
    if let source { parts.append(source) }
    if let path { parts.append("entry '\(path)'") }
    if let offset { parts.append(offsetSpace == .uncompressedTar ? "tar byte \(offset) (uncompressed)" : "byte \(offset)") }
    let location = parts.isEmpty ? "" : parts.joined(separator: ", ") + ": "
    var text = "\(location)\(message)"
    if let cause { text += " (\(cause))" }
    return text
  }

  /// A copy whose ``offset``, when it has one and its space is not said yet, is labelled
  /// `space`.
  public func labellingOffset(_ space: OffsetSpace) -> CotarError {
    var copy = self
    if copy.offset != nil && copy.offsetSpace == nil { copy.offsetSpace = space }
    return copy
  }

  /// A copy with the source identity filled in when it was not set yet.
  public func withSource(_ identity: String) -> CotarError {
    var copy = self
    if copy.source == nil { copy.source = identity }
    return copy
  }
}
