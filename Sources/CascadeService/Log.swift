import Foundation

/// One JSON object per line on standard error: easy to grep, easy to ship.
public enum Log {
    public enum Level: String, Sendable { case info, warning, error }

    public static func info(_ message: String, _ fields: [String: String] = [:]) { write(.info, message, fields) }
    public static func warning(_ message: String, _ fields: [String: String] = [:]) { write(.warning, message, fields) }
    public static func error(_ message: String, _ fields: [String: String] = [:]) { write(.error, message, fields) }

    private static let lock = NSLock()

    public static func write(_ level: Level, _ message: String, _ fields: [String: String]) {
        var line = "{\"ts\":\"\(isoNow())\",\"level\":\"\(level.rawValue)\",\"msg\":\(quote(message))"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += ",\(quote(key)):\(quote(value))" }
        line += "}\n"
        lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func isoNow() -> String {
        let now = Date()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: now)
    }
}
