/// A shell-style path pattern: `*` (any bytes but `/`), `?` (one byte but `/`), `[…]` (a byte
/// set; `[!…]` or `[^…]` negated, ranges `a-z`), and `**` (any bytes including `/`; `**/`
/// matches zero or more whole directories). Other bytes match themselves; `\` escapes one.
///
/// Matching simulates the pattern as a small automaton: O(pattern × path), whatever the
/// pattern (no exponential backtracking on hostile patterns).
public struct GlobPattern: Sendable, Hashable {
  enum Token: Sendable, Hashable {
    case byte(UInt8)
    case anyByte
    case set([ClosedRange<UInt8>], negated: Bool)
    case star
    case globstar
    case globstarDirectories
  }

  let tokens: [Token]
  /// The bytes before the first wildcard: every match starts with them.
  public let literalPrefix: [UInt8]

  /// Compiles `pattern`. An unterminated `[` is a literal `[`.
  public init(_ pattern: String) {
    let bytes = Array(pattern.utf8)
    var tokens: [Token] = []
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "*"):
        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
          if index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "/") {
            tokens.append(.globstarDirectories)
            index += 3
          } else {
            tokens.append(.globstar)
            index += 2
          }
          continue
        }
        tokens.append(.star)
      case UInt8(ascii: "?"):
        tokens.append(.anyByte)
      case UInt8(ascii: "\\") where index + 1 < bytes.count:
        index += 1
        tokens.append(.byte(bytes[index]))
      case UInt8(ascii: "["):
        if let (set, end) = Self.parseSet(bytes, from: index + 1) {
          tokens.append(set)
          index = end
        } else {
          tokens.append(.byte(byte))
        }
      default:
        tokens.append(.byte(byte))
      }
      index += 1
    }
    self.tokens = tokens
    var prefix: [UInt8] = []
    for token in tokens {
      guard case .byte(let byte) = token else { break }
      prefix.append(byte)
    }
    literalPrefix = prefix
  }

  /// Parses a bracket set whose body starts at `start`; returns the token and the index of `]`.
  static func parseSet(_ bytes: [UInt8], from start: Int) -> (Token, Int)? {
    var index = start
    var negated = false
    if index < bytes.count, bytes[index] == UInt8(ascii: "!") || bytes[index] == UInt8(ascii: "^") {
      negated = true
      index += 1
    }
    var ranges: [ClosedRange<UInt8>] = []
    let bodyStart = index
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "]") && index > bodyStart { return (.set(ranges, negated: negated), index) }
      if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "-"), bytes[index + 2] != UInt8(ascii: "]") {
        let upper = bytes[index + 2]
        ranges.append(min(byte, upper)...max(byte, upper))
        index += 3
      } else {
        ranges.append(byte...byte)
        index += 1
      }
    }
    return nil
  }

  /// Whether the whole of `path` matches.
  public func matches(_ path: [UInt8]) -> Bool {
    var states = [Bool](repeating: false, count: tokens.count + 1)
    enter(0, &states)
    var next = states
    for byte in path {
      for index in next.indices { next[index] = false }
      for (index, token) in tokens.enumerated() where states[index] {
        switch token {
        case .byte(let expected): if byte == expected { enter(index + 1, &next) }
        case .anyByte: if byte != 0x2F { enter(index + 1, &next) }
        case .set(let ranges, let negated):
          if byte != 0x2F, ranges.contains(where: { $0.contains(byte) }) != negated { enter(index + 1, &next) }
        case .star: if byte != 0x2F { enter(index, &next) }
        case .globstar: enter(index, &next)
        case .globstarDirectories:
          // Inside the skipped directories: what follows may start only after a '/'.
          next[index] = true
          if byte == 0x2F { enter(index + 1, &next) }
        }
      }
      guard next.contains(true) else { return false }
      swap(&states, &next)
    }
    return states[tokens.count]
  }

  /// Makes state `index` active, with the empty moves from it: a `*` or `**` may match
  /// nothing, and so may `**/` when it is entered (zero directories).
  private func enter(_ index: Int, _ states: inout [Bool]) {
    var index = index
    while true {
      states[index] = true
      guard index < tokens.count else { return }
      switch tokens[index] {
      case .star, .globstar, .globstarDirectories: index += 1
      default: return
      }
    }
  }
}
