/// Conversions between days since 1970-01-01 and proleptic Gregorian dates (Howard Hinnant's
/// algorithms), and the UTC timestamp text built from them. Shared by the JSON and PostgreSQL
/// timestamp writers, which run on the hot path: String(format:) and Foundation's formatters
/// showed in its profiles.
public enum CivilCalendar {
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func date(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Splits seconds since the epoch into days and seconds of the day, rounding down.
    public static func split(seconds: Int64) -> (days: Int, secondOfDay: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        return (Int(days), Int(seconds - days * 86_400))
    }

    /// `YYYY-MM-DD<separator>HH:MM:SS.<fraction><suffix>` for a UTC instant.
    public static func timestamp(seconds: Int64, fraction: Int, fractionDigits: Int, separator: Character,
                                 suffix: String) -> String {
        let (days, secondOfDay) = split(seconds: seconds)
        let (y, m, d) = date(days: days)
        var out = [UInt8](repeating: 0, count: 20 + fractionDigits)
        func put(_ value: Int, _ at: Int, _ width: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        put(y, 0, 4); out[4] = UInt8(ascii: "-"); put(m, 5, 2); out[7] = UInt8(ascii: "-"); put(d, 8, 2)
        out[10] = separator.asciiValue!
        put(secondOfDay / 3600, 11, 2); out[13] = UInt8(ascii: ":"); put(secondOfDay / 60 % 60, 14, 2)
        out[16] = UInt8(ascii: ":"); put(secondOfDay % 60, 17, 2); out[19] = UInt8(ascii: ".")
        put(fraction, 20, fractionDigits)
        out.append(contentsOf: suffix.utf8)
        return String(decoding: out, as: UTF8.self)
    }
}
