/// What a syntactically valid head must also satisfy before its body is read.
enum HeaderRules {
    /// RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with several, is a 400.
    static func requireHost(in headers: HTTPHeaders, version: HTTPVersion) throws(HTTPParseError) {
        let hosts = headers.values(for: "Host").count
        if hosts > 1 { throw HTTPParseError(.badRequest, "more than one Host header") }
        if hosts == 0 && version == .http1_1 { throw HTTPParseError(.badRequest, "HTTP/1.1 request without Host") }
    }

    /// The body length, decided from the head alone so that an oversized body is refused
    /// before a byte of it is buffered.
    ///
    /// A Content-Length of well-formed digits that is too large for an `Int` is a 413, not a
    /// 400: the request is grammatical, it is only bigger than anything this server accepts.
    static func bodyLength(of headers: HTTPHeaders, limits: HTTPRequestLimits) throws(HTTPParseError) -> Int {
        let lengths = headers.values(for: "Content-Length")
        if headers.contains("Transfer-Encoding") {
            // Both at once is the classic smuggling vector (RFC 9112 §6.1).
            if !lengths.isEmpty { throw HTTPParseError(.badRequest, "both Transfer-Encoding and Content-Length") }
            throw HTTPParseError(.notImplemented, "Transfer-Encoding is not supported")
        }
        guard let first = lengths.first else { return 0 }
        // A list ("5, 5") is refused with everything else that is not plain digits.
        guard lengths.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(\.isDigit) }) else {
            throw HTTPParseError(.badRequest, "Content-Length is not a decimal number")
        }
        let digits = significantDigits(first)
        guard lengths.allSatisfy({ significantDigits($0) == digits }) else {
            throw HTTPParseError(.badRequest, "differing Content-Length values")
        }
        // 18 digits always fit an Int64, so anything longer is simply too large.
        guard digits.count <= 18, let length = Int(digits.isEmpty ? "0" : digits), length <= limits.maxBodyBytes else {
            throw HTTPParseError(.contentTooLarge, "Content-Length \(first.prefix(24)) exceeds \(limits.maxBodyBytes) bytes")
        }
        return length
    }

    /// `007` and `7` are the same length; comparing strings without leading zeros avoids
    /// converting numbers that may not fit any integer.
    private static func significantDigits(_ value: String) -> Substring {
        value.drop { $0 == "0" }
    }
}
