import CascadeDomain
import Foundation

/// One JSON object per line on standard error: easy to grep, easy to ship. Written with the
/// domain's JSON writer and timestamp, so there is one escaper and one timestamp format.
public enum Log {
    public enum Level: String, Sendable { case info, warning, error }

    public static func info(_ message: String, _ fields: [String: String] = [:]) { write(.info, message, fields) }
    public static func warning(_ message: String, _ fields: [String: String] = [:]) { write(.warning, message, fields) }
    public static func error(_ message: String, _ fields: [String: String] = [:]) { write(.error, message, fields) }

    private static let lock = NSLock()

    public static func write(_ level: Level, _ message: String, _ fields: [String: String]) {
        var w = JSONWriter(capacity: 128 + fields.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        w.beginObject()
        w.member("ts", Timestamp.iso8601(Date()))
        w.member("level", level.rawValue)
        w.member("msg", message)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) { w.key(named: key); w.string(value) }
        w.endObject()
        let line = Data(w.bytes + [0x0A])
        lock.withLock { FileHandle.standardError.write(line) }
    }
}
