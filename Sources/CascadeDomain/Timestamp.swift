import CivilCalendar
import Foundation

public enum Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. 2026-11-29T07:30:00.123Z.
    public static func iso8601(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return CivilCalendar.timestamp(seconds: seconds, fraction: Int(millis - seconds * 1000), fractionDigits: 3,
                                       separator: "T", suffix: "Z")
    }
}
