/// An HTTP date with one-second resolution, formatted as IMF-fixdate (RFC 9110 §5.6.7).
public struct HTTPDate: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// Seconds since 1970-01-01T00:00:00Z.
  public var secondsSince1970: Int64

  /// Creates a date from seconds since the Unix epoch.
  public init(secondsSince1970: Int64) { self.secondsSince1970 = secondsSince1970 }

  /// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
  ///
  /// The obsolete RFC 850 and asctime forms are not accepted; a header in those forms is
  /// ignored by the caller, as RFC 9110 allows for invalid dates.
  /// - Returns: `nil` when `text` is not an IMF-fixdate.
  public init?(parsing text: String) {
    let parts = text.trimmingASCIISpaces().split(separator: " ")
    guard parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","), parts[5] == "GMT",
      let day = Int64(parts[1]), parts[1].count == 2,
      let month = Self.months.firstIndex(of: String(parts[2])),
      let year = Int64(parts[3]), parts[3].count == 4
    else { return nil }
    let time = parts[4].split(separator: ":")
    guard time.count == 3, time.allSatisfy({ $0.count == 2 }),
      let hour = Int64(time[0]), let minute = Int64(time[1]), let second = Int64(time[2]),
      (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    let days = Self.daysFromCivil(year: year, month: Int64(month) + 1, day: day)
    secondsSince1970 = days * 86_400 + hour * 3_600 + minute * 60 + second
  }

  /// The IMF-fixdate text, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
  public var description: String {
    let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
    let secondsOfDay = secondsSince1970 - days * 86_400
    let (year, month, day) = Self.civilFromDays(days)
    let weekday = Int(((days % 7) + 7 + 4) % 7)  // 1970-01-01 was a Thursday
    return "\(Self.weekdays[weekday]), \(Self.twoDigits(day)) \(Self.months[Int(month) - 1]) \(year) "
      + "\(Self.twoDigits(secondsOfDay / 3_600)):\(Self.twoDigits(secondsOfDay / 60 % 60)):\(Self.twoDigits(secondsOfDay % 60)) GMT"
  }

  /// The ISO 8601 UTC text, such as `1994-11-06T08:49:37Z` (for `<time datetime>`).
  public var iso8601: String {
    let (date, time) = calendarParts
    return "\(date)T\(time)Z"
  }

  /// `YYYY-MM-DD` and `HH:MM:SS` in UTC.
  package var calendarParts: (date: String, time: String) {
    let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
    let secondsOfDay = secondsSince1970 - days * 86_400
    let (year, month, day) = Self.civilFromDays(days)
    let yearText = year >= 0 && year < 1000 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
    return (
      "\(yearText)-\(Self.twoDigits(month))-\(Self.twoDigits(day))",
      "\(Self.twoDigits(secondsOfDay / 3_600)):\(Self.twoDigits(secondsOfDay / 60 % 60)):\(Self.twoDigits(secondsOfDay % 60))"
    )
  }

  /// Orders dates by time.
  public static func < (lhs: HTTPDate, rhs: HTTPDate) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

  private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  private static func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

  /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
  private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  /// The proleptic Gregorian date of a day count since 1970-01-01.
  private static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
