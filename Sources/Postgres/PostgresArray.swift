import Foundation

/// A one-dimensional array, for `unnest($1::text[])` and friends: thousands of rows travel as
/// one parameter instead of thousands of statements.
///
/// Sent in PostgreSQL's binary array format: each element is its length and its bytes, so
/// nothing is quoted or escaped here and the server parses no literal (`array_in` and the
/// element parsers were a visible share of the database's CPU in a drain). The statement's
/// cast must name the element type exactly (`text[]`, `bigint[]`, `uuid[]`, `timestamptz[]`,
/// `bytea[]`, `integer[]`, `boolean[]`), or the server refuses the array.
public struct PostgresArray: PostgresBindable, Equatable {
    public let bytes: [UInt8]

    public var postgresParameter: PostgresParameter { .binary(bytes) }

    // Inlinable, so that callers in other modules get code specialized for their element type
    // (unspecialized, each element went through witness tables and boxed copies).
    // A closure, not a key path, at call sites: a key path through a protocol requirement is
    // projected at run time, and that showed as 8 % of a drain's profile. Likewise no
    // `contains(where:)` for the null flag and no `map(Optional.some)`: both ran as unspecialized
    // generic code in the standard library, about 18,000 instructions per report (callgrind).
    @inlinable
    public init<Element: PostgresArrayElement>(_ elements: [Element?]) {
        var out = Self.start(count: elements.count, elementType: Element.postgresElementType)
        var hasNull = false
        for element in elements {
            if let element {
                Self.append(element, to: &out)
            } else {
                hasNull = true
                Self.appendInt32(-1, to: &out)
            }
        }
        if hasNull { Self.patchInt32(1, at: Self.hasNullOffset, in: &out) }
        bytes = out
    }

    @inlinable
    public init<Element: PostgresArrayElement>(_ elements: [Element]) {
        var out = Self.start(count: elements.count, elementType: Element.postgresElementType)
        for element in elements { Self.append(element, to: &out) }
        bytes = out
    }

    /// `bytea[]`.
    public static func bytea(_ values: [[UInt8]?]) -> PostgresArray {
        PostgresArray(values.map { $0.map(PostgresBytes.init) })
    }

    @usableFromInline static let hasNullOffset = 4

    // ndim, has-null flag (patched once known), element type, then (length, lower bound) per dimension.
    @inlinable
    static func start(count: Int, elementType: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + count * 24)
        appendInt32(1, to: &out)
        appendInt32(0, to: &out)
        appendInt32(Int32(bitPattern: elementType), to: &out)
        appendInt32(Int32(count), to: &out)
        appendInt32(1, to: &out)
        return out
    }

    /// An element's length, then its bytes.
    @inlinable
    static func append<Element: PostgresArrayElement>(_ element: Element, to out: inout [UInt8]) {
        let lengthAt = out.count
        appendInt32(0, to: &out)
        element.appendPostgresBinary(to: &out)
        patchInt32(Int32(out.count - lengthAt - 4), at: lengthAt, in: &out)
    }

    @inlinable
    static func appendInt32(_ value: Int32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }

    @inlinable
    static func patchInt32(_ value: Int32, at index: Int, in out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { raw in
            for i in 0..<4 { out[index + i] = raw[i] }
        }
    }
}

/// A type whose values can be elements of a binary-format `PostgresArray`.
public protocol PostgresArrayElement: Sendable {
    /// The element type's OID, which the server checks against the statement's cast.
    static var postgresElementType: UInt32 { get }
    /// Appends the value's binary form (without its length).
    func appendPostgresBinary(to out: inout [UInt8])
}

extension String: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 25 }  // text
    public func appendPostgresBinary(to out: inout [UInt8]) { out.append(contentsOf: utf8) }
}

extension Int64: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 20 }  // bigint
    public func appendPostgresBinary(to out: inout [UInt8]) {
        withUnsafeBytes(of: bigEndian) { out.append(contentsOf: $0) }
    }
}

/// `Int` is 64 bits here, so it travels as `bigint` (cast with `$n::bigint[]`).
extension Int: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 20 }
    public func appendPostgresBinary(to out: inout [UInt8]) { Int64(self).appendPostgresBinary(to: &out) }
}

extension Int32: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 23 }  // integer
    public func appendPostgresBinary(to out: inout [UInt8]) { PostgresArray.appendInt32(self, to: &out) }
}

extension Bool: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 16 }  // boolean
    public func appendPostgresBinary(to out: inout [UInt8]) { out.append(self ? 1 : 0) }
}

extension UUID: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 2950 }  // uuid
    public func appendPostgresBinary(to out: inout [UInt8]) { withUnsafeBytes(of: uuid) { out.append(contentsOf: $0) } }
}

/// timestamptz: microseconds since 2000-01-01 00:00 UTC, rounded as the text form rounds.
extension Date: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 1184 }
    public func appendPostgresBinary(to out: inout [UInt8]) {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded()) - 946_684_800_000_000
        micros.appendPostgresBinary(to: &out)
    }
}

extension PostgresBytes: PostgresArrayElement {
    public static var postgresElementType: UInt32 { 17 }  // bytea
    public func appendPostgresBinary(to out: inout [UInt8]) { out.append(contentsOf: bytes) }
}
