import Foundation

/// Rows copied out of a `PGresult` (which is cleared at once), in text format.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let values: [[String?]]
    /// Rows affected by INSERT/UPDATE/DELETE (PQcmdTuples), 0 when not reported.
    public let affectedRows: Int

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }
    public var first: PostgresRow? { values.isEmpty ? nil : PostgresRow(rows: self, index: 0) }
    public var rows: [PostgresRow] { (0..<values.count).map { PostgresRow(rows: self, index: $0) } }

    // Lengths first: most columns differ from the name asked for in length, and comparing the
    // counts is a few instructions where String == of two different names is about 130 (a job
    // row's fifteen lookups, ~5,000 instructions per report, callgrind). Names of different
    // byte lengths no longer match even when == would call them canonically equivalent: that
    // is how PostgreSQL compares identifiers, by bytes. (A byte loop through withUTF8
    // measured dearer than ==.)
    func columnIndex(_ name: String) -> Int? {
        let length = name.utf8.count
        return columns.firstIndex { $0.utf8.count == length && $0 == name }
    }
}

/// One row; typed accessors throw a `.client` error naming the column when the value is NULL
/// (for non-optional accessors) or not of the asked type.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    public func raw(_ column: String) throws(PostgresError) -> String? {
        guard let c = rows.columnIndex(column) else {
            throw .client("no column '\(column)' in result (columns: \(rows.columns.joined(separator: ", ")))")
        }
        return rows.values[index][c]
    }

    public func isNull(_ column: String) throws(PostgresError) -> Bool { try raw(column) == nil }

    public func optionalString(_ column: String) throws(PostgresError) -> String? { try raw(column) }

    public func string(_ column: String) throws(PostgresError) -> String {
        try required(column, try raw(column))
    }

    public func optionalInt(_ column: String) throws(PostgresError) -> Int64? {
        guard let text = try raw(column) else { return nil }
        guard let v = Int64(text) else { throw .client("column '\(column)': '\(text)' is not an integer") }
        return v
    }

    public func int(_ column: String) throws(PostgresError) -> Int64 {
        try required(column, try optionalInt(column))
    }

    public func optionalBool(_ column: String) throws(PostgresError) -> Bool? {
        switch try raw(column) {
        case nil: return nil
        case "t": return true
        case "f": return false
        case let other?: throw .client("column '\(column)': '\(other)' is not a boolean")
        }
    }

    public func bool(_ column: String) throws(PostgresError) -> Bool {
        try required(column, try optionalBool(column))
    }

    public func optionalDate(_ column: String) throws(PostgresError) -> Date? {
        guard let text = try raw(column) else { return nil }
        guard let date = PostgresTimestamp.parse(text) else { throw .client("column '\(column)': '\(text)' is not a timestamptz") }
        return date
    }

    public func date(_ column: String) throws(PostgresError) -> Date {
        try required(column, try optionalDate(column))
    }

    public func optionalUUID(_ column: String) throws(PostgresError) -> UUID? {
        guard let text = try raw(column) else { return nil }
        guard let uuid = UUID(uuidString: text) else { throw .client("column '\(column)': '\(text)' is not a uuid") }
        return uuid
    }

    public func uuid(_ column: String) throws(PostgresError) -> UUID {
        try required(column, try optionalUUID(column))
    }

    public func optionalBytes(_ column: String) throws(PostgresError) -> [UInt8]? {
        guard let text = try raw(column) else { return nil }
        guard let bytes = PostgresBytes.parse(text) else { throw .client("column '\(column)': not bytea hex") }
        return bytes
    }

    public func bytes(_ column: String) throws(PostgresError) -> [UInt8] {
        try required(column, try optionalBytes(column))
    }

    /// jsonb as parsed JSON (objects, arrays, numbers, strings, bools, NSNull).
    public func optionalJSON(_ column: String) throws(PostgresError) -> Any? {
        guard let text = try raw(column) else { return nil }
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw .client("column '\(column)': not JSON: \(error)")
        }
    }

    private func required<T>(_ column: String, _ value: T?) throws(PostgresError) -> T {
        guard let value else { throw .client("column '\(column)' is NULL") }
        return value
    }
}
