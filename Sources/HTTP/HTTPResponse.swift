/// A response as a handler builds it. The server owns the framing: `Content-Length` and
/// `Connection` are written from `body` and the connection's fate, never taken from `headers`.
public struct HTTPResponse: Sendable, Equatable {
    public var status: HTTPStatus
    /// Written as `Content-Type` when present.
    public var contentType: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, contentType: String? = nil, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// A plain-text response, the usual shape for small answers and errors.
    public init(status: HTTPStatus, text: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.init(status: status, contentType: "text/plain; charset=utf-8", headers: headers, body: Array(text.utf8))
    }

    /// The bytes to send. `keepAlive: false` adds `Connection: close`; `date` is an
    /// IMF-fixdate (see `httpDate(secondsSinceEpoch:)`) or nil to leave `Date` out.
    ///
    /// Whatever a handler put in the response, the output stays one well-framed message:
    /// fields that would break framing (`Content-Length`, `Transfer-Encoding`, `Connection`)
    /// or that could inject lines (a name that is not a token, a CR, LF or NUL in a value) are
    /// dropped, and a status code outside 100...599 is sent as 500.
    public func serialized(keepAlive: Bool, date: String? = nil) -> [UInt8] {
        let status = (100...599).contains(status.code) ? status : .internalServerError
        let reason = status.reason.utf8.allSatisfy(\.isFieldValueByte) ? status.reason : ""
        // RFC 9110 §8.6 and §15.3.5: 1xx, 204 and 304 carry neither content nor its length.
        let bodyless = status.code < 200 || status.code == 204 || status.code == 304
        var head = "HTTP/1.1 \(status.code) \(reason)\r\n"
        if let date { head += "Date: \(date)\r\n" }
        if let contentType, isSafeField(name: "Content-Type", value: contentType) {
            head += "Content-Type: \(contentType)\r\n"
        }
        for field in headers where isSafeField(name: field.name, value: field.value) && !isFraming(field.name) {
            head += "\(field.name): \(field.value)\r\n"
        }
        if !bodyless { head += "Content-Length: \(body.count)\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !bodyless { bytes += body }
        return bytes
    }
}

private func isFraming(_ name: String) -> Bool {
    ["Content-Length", "Transfer-Encoding", "Connection"].contains { name.equalsIgnoringASCIICase($0) }
}

private func isSafeField(name: String, value: String) -> Bool {
    !name.isEmpty && name.utf8.allSatisfy(\.isTokenByte) && value.utf8.allSatisfy(\.isFieldValueByte)
}
