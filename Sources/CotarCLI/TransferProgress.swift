import CotarCore

/// A progress bar on standard error for one large entry being written: drawn only when
/// standard error is a terminal and the entry is larger than ``threshold``, redrawn at most
/// ten times a second, erased when done.
final class TransferProgress {
  /// Entries at most this large get no bar.
  static let threshold: UInt64 = 8 << 20

  private let label: String
  private let total: UInt64
  private let start = ContinuousClock.now
  private var lastDraw: ContinuousClock.Instant?
  private var drawn = false

  /// A bar for `total` bytes of `label`, or `nil` when none should be drawn.
  static func make(_ label: String, total: UInt64, enabled: Bool = standardErrorIsTerminal) -> TransferProgress? {
    guard enabled, total > threshold else { return nil }
    return TransferProgress(label: label, total: total)
  }

  private init(label: String, total: UInt64) {
    self.label = label.count > 40 ? "…" + label.suffix(39) : label
    self.total = total
  }

  /// Redraws the bar for `done` bytes (throttled).
  func update(_ done: UInt64) {
    let now = ContinuousClock.now
    if let lastDraw, now - lastDraw < .milliseconds(100), done < total { return }
    lastDraw = now
    drawn = true
    writeStandardError("\r" + Self.line(label: label, done: done, total: total, elapsed: now - start) + "\u{1B}[K")
  }

  /// Erases the bar.
  func finish() {
    if drawn { writeStandardError("\r\u{1B}[K") }
  }

  /// `label [#####.....]  42%  430/1024 MiB  210 MiB/s`.
  static func line(label: String, done: UInt64, total: UInt64, elapsed: Duration) -> String {
    let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
    let width = 24
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = seconds > 0 ? Int(Double(done) / seconds) >> 20 : 0
    let percent = Int(fraction * 100)
    return "\(label) [\(bar)] \(percent)%  \(done >> 20)/\(total >> 20) MiB  \(rate) MiB/s"
  }
}
