import CotarCore
import CotarWriter
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One part of the report (build, lookup, remote, index size).
struct Section {
  /// JSON key of the section (`build`, `lookup`, …).
  var key: String
  /// Heading in the table.
  var title: String
  /// Measured figures.
  var figures: [Figure] = []
  /// Ratios between figures' medians.
  var ratios: [Ratio] = []
  /// Free-text lines printed under the section (skipped peers, explanations).
  var notes: [String] = []
  /// Set when the whole section could not run; printed instead of figures.
  var unavailableReason: String?
}

/// The whole run: parameters, machine, sections; printed as a table or written as JSON.
struct Report {
  /// Run parameters (`entries`, `seed`, `repetitions`, …) in print order.
  var parameters: [(String, String)]
  /// Machine description (`cpu`, `cpus`, `kernel`) in print order.
  var machine: [(String, String)]
  /// The sections in print order.
  var sections: [Section]

  /// The human-readable table.
  func table() -> String {
    var lines: [String] = []
    lines.append("cotar-bench — " + parameters.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
    lines.append("machine: " + machine.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
    for section in sections {
      lines.append("")
      if let reason = section.unavailableReason {
        lines.append("\(section.title): not available (\(reason))")
        continue
      }
      lines.append(
        pad(section.title, 44) + padLeft("median", 14) + padLeft("min", 14) + padLeft("max", 14) + "  unit")
      for figure in section.figures {
        lines.append(
          "  " + pad(figure.label, 42) + padLeft(Self.format(figure.median), 14)
            + padLeft(Self.format(figure.min), 14) + padLeft(Self.format(figure.max), 14) + "  " + figure.unit)
      }
      for ratio in section.ratios {
        var line = "  " + pad(ratio.label, 42) + padLeft(Self.formatRatio(ratio.value), 14)
        if let target = ratio.target {
          line += "  target ≥ \(Self.formatRatio(target))  " + (ratio.meetsTarget ? "met" : "MISSED")
        }
        lines.append(line)
      }
      for note in section.notes { lines.append("  note: " + note) }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The JSON document described in `Benchmarks/README.md`.
  func json() -> String {
    var top: [(String, String)] = []
    top.append(("parameters", Self.object(parameters.map { ($0.0, Int($0.1) != nil ? $0.1 : JSONText.quoted($0.1)) })))
    top.append(("machine", Self.object(machine.map { ($0.0, JSONText.quoted($0.1)) })))
    var allFigures: [(String, String)] = []
    var allRatios: [(String, String)] = []
    for section in sections {
      var members: [(String, String)] = [("available", section.unavailableReason == nil ? "true" : "false")]
      if let reason = section.unavailableReason { members.append(("reason", JSONText.quoted(reason))) }
      for figure in section.figures {
        members.append((Self.name(figure.key), Self.number(figure.median)))
        allFigures.append(
          (
            figure.key,
            Self.object([
              ("unit", JSONText.quoted(figure.unit)), ("median", Self.number(figure.median)),
              ("min", Self.number(figure.min)), ("max", Self.number(figure.max)),
              ("samples", "[" + figure.samples.map(Self.number).joined(separator: ", ") + "]"),
            ])
          ))
      }
      for ratio in section.ratios {
        members.append((Self.name(ratio.key), Self.number(ratio.value)))
        allRatios.append(
          (
            ratio.key,
            Self.object([
              ("value", Self.number(ratio.value)), ("target", ratio.target.map(Self.number) ?? "null"),
              ("met", ratio.target == nil ? "null" : (ratio.meetsTarget ? "true" : "false")),
            ])
          ))
      }
      if !section.notes.isEmpty {
        members.append(("notes", "[" + section.notes.map(JSONText.quoted).joined(separator: ", ") + "]"))
      }
      top.append((section.key, Self.object(members)))
    }
    top.append(("figures", Self.object(allFigures)))
    top.append(("ratios", Self.object(allRatios)))
    return Self.object(top) + "\n"
  }

  /// The part of a dotted key after the section name.
  private static func name(_ key: String) -> String {
    guard let dot = key.firstIndex(of: ".") else { return key }
    return String(key[key.index(after: dot)...])
  }

  private static func object(_ members: [(String, String)]) -> String {
    "{" + members.map { "\(JSONText.quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
  }

  private static func number(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
  }

  /// A figure with thousands separators, or three significant decimals below 100.
  static func format(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    if abs(value) < 100 {
      return String(Double(Int((value * 100).rounded())) / 100)
    }
    let digits = String(Int64(value.rounded()))
    var out = ""
    for (index, character) in digits.reversed().enumerated() {
      if index > 0 && index % 3 == 0 && character != "-" { out.append(",") }
      out.append(character)
    }
    return String(out.reversed())
  }

  /// A ratio with an `x` suffix: three decimals below 1 (so 0.599 is not shown as 0.6 next
  /// to a 0.6 target), two decimals below 100, none above.
  static func formatRatio(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    if value >= 100 { return String(Int(value.rounded())) + "x" }
    let scale: Double = value < 1 ? 1000 : 100
    return String((value * scale).rounded() / scale) + "x"
  }

  private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
  }

  private func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
  }
}

/// What is known about the machine the bench runs on.
enum MachineInfo {
  /// CPU model, online CPU count and kernel release.
  static func describe() -> [(String, String)] {
    var model = "unknown"
    if let cpuinfo = try? readSmallFile("/proc/cpuinfo"),
      let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let colon = line.firstIndex(of: ":")
    {
      model = line[line.index(after: colon)...].trimmingPrefix(" ").description
    }
    var name = utsname()
    uname(&name)
    let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return [
      ("cpu", model), ("cpus", String(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
      ("kernel", "Linux \(release) \(machine)"),
    ]
  }
}
