// The grammar of a request head (RFC 9112 §3 and §5, RFC 9110 §5.5), byte by byte.

/// `method SP request-target SP HTTP-version`, with exactly one SP between parts.
struct RequestLine: Sendable, Equatable {
    let method: String
    let target: String
    let version: HTTPVersion

    init(_ line: ArraySlice<UInt8>) throws(HTTPParseError) {
        let parts = line.split(separator: .space, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw HTTPParseError(.badRequest, "request line is not 'METHOD TARGET VERSION'")
        }
        guard parts[0].allSatisfy(\.isTokenByte) else {
            throw HTTPParseError(.badRequest, "method is not a token")
        }
        // Origin form only: absolute-form is for proxies and `*` for server-wide OPTIONS,
        // neither of which this server is.
        guard parts[1].first == UInt8(ascii: "/") else {
            throw HTTPParseError(.badRequest, "request target does not start with '/'")
        }
        method = String(decoding: parts[0], as: UTF8.self)
        target = String(decoding: parts[1], as: UTF8.self)
        version = try Self.version(parts[2])
    }

    private static func version(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        let text = String(decoding: bytes, as: UTF8.self)
        if let known = HTTPVersion(rawValue: text) { return known }
        let shaped = bytes.count == 8 && text.hasPrefix("HTTP/") && bytes[bytes.startIndex + 6] == UInt8(ascii: ".")
            && bytes[bytes.startIndex + 5].isDigit && bytes[bytes.startIndex + 7].isDigit
        if shaped { throw HTTPParseError(.versionNotSupported, "\(text) is not HTTP/1.0 or HTTP/1.1") }
        throw HTTPParseError(.badRequest, "malformed HTTP version")
    }
}

/// Splits the header section (without its final CRLF CRLF) into fields. Every CR in it is
/// already known to be followed by LF, and there is no bare LF.
func parseHeaderLines(_ section: ArraySlice<UInt8>, limits: HTTPRequestLimits) throws(HTTPParseError) -> HTTPHeaders {
    var fields: [HTTPHeaderField] = []
    var lineStart = section.startIndex
    while lineStart < section.endIndex {
        let lineEnd = section[lineStart...].firstIndex(of: .carriageReturn) ?? section.endIndex
        guard fields.count < limits.maxHeaderCount else {
            throw HTTPParseError(.headerFieldsTooLarge, "more than \(limits.maxHeaderCount) header fields")
        }
        fields.append(try parseField(section[lineStart..<lineEnd]))
        lineStart = lineEnd + 2
    }
    return HTTPHeaders(fields)
}

private func parseField(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPHeaderField {
    // A line that starts with whitespace continues the previous one (obs-fold); proxies
    // disagree on how to unfold it, so it is refused.
    if let first = line.first, first.isOptionalWhitespace {
        throw HTTPParseError(.badRequest, "obsolete line folding")
    }
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
        throw HTTPParseError(.badRequest, "header line without ':'")
    }
    let name = line[line.startIndex..<colon]
    // Whitespace before the colon lands here too: RFC 9112 §5.1 says it MUST be rejected.
    guard !name.isEmpty, name.allSatisfy(\.isTokenByte) else {
        throw HTTPParseError(.badRequest, "header name is not a token")
    }
    var value = line[(colon + 1)...]
    while let first = value.first, first.isOptionalWhitespace { value.removeFirst() }
    while let last = value.last, last.isOptionalWhitespace { value.removeLast() }
    guard value.allSatisfy(\.isFieldValueByte) else {
        throw HTTPParseError(.badRequest, "control character in the value of \(String(decoding: name, as: UTF8.self))")
    }
    return HTTPHeaderField(name: String(decoding: name, as: UTF8.self), value: latin1String(value))
}

/// Field values may carry obs-text (0x80–0xFF), which is not necessarily UTF-8; reading each
/// byte as one Latin-1 scalar keeps every byte instead of turning some into U+FFFD.
private func latin1String(_ bytes: ArraySlice<UInt8>) -> String {
    if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
    var scalars = String.UnicodeScalarView()
    scalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
    return String(scalars)
}

extension UInt8 {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let carriageReturn = UInt8(ascii: "\r")
    static let lineFeed = UInt8(ascii: "\n")

    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }

    var isOptionalWhitespace: Bool { self == .space || self == .tab }

    /// `tchar` of RFC 9110 §5.6.2.
    var isTokenByte: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Visible ASCII or SP: the request line carries nothing else.
    var isRequestLineByte: Bool { self >= 0x20 && self <= 0x7E }

    /// `field-content` of RFC 9110 §5.5: visible ASCII, SP, HTAB and obs-text; never a control.
    var isFieldValueByte: Bool { self == .tab || (self >= 0x20 && self != 0x7F) }
}
