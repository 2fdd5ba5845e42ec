/// How much a request may weigh before the parser refuses it.
public struct HTTPRequestLimits: Sendable, Equatable {
    /// Request line plus header fields plus the blank line that ends them.
    public var maxHeadBytes: Int
    /// 0 by default because the metrics endpoint takes no bodies; a route that accepts POST
    /// must raise it.
    public var maxBodyBytes: Int
    public var maxHeaderCount: Int

    public init(maxHeadBytes: Int = 8192, maxBodyBytes: Int = 0, maxHeaderCount: Int = 100) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderCount = maxHeaderCount
    }
}

/// Why a request was refused: the status to answer with and a reason for logs and tests.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    public let reason: String

    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status): \(reason)" }
}

/// What the bytes received so far amount to.
public enum HTTPParseResult: Sendable, Equatable {
    /// A prefix of a valid request; read more and parse again from the same start.
    case needMore
    /// A request, and how many bytes it took; bytes after it belong to the next (pipelined) one.
    case complete(HTTPRequest, consumed: Int)
    /// The bytes can never become an acceptable request; answer with the status and close.
    case failed(HTTPParseError)
}

/// A strict HTTP/1.1 request parser with no I/O and no state: hand it everything received so
/// far on a connection and it says whether a request is complete. Strictness is the defence
/// against request smuggling: anything a front proxy might read differently (bare LF,
/// obs-fold, duplicate lengths, Transfer-Encoding with Content-Length) is refused, not guessed.
///
/// Chunked bodies are not implemented (501): nothing here needs streamed uploads, and every
/// body is bounded by `maxBodyBytes` anyway.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPRequestLimits

    public init(limits: HTTPRequestLimits = HTTPRequestLimits()) {
        self.limits = limits
    }

    public func parse(_ bytes: [UInt8]) -> HTTPParseResult {
        parse(bytes[...])
    }

    /// Reads only `bytes[bytes.startIndex..<bytes.endIndex]`; `consumed` counts from the start.
    public func parse(_ bytes: ArraySlice<UInt8>) -> HTTPParseResult {
        let head: HeadBounds
        switch locateHead(bytes) {
        case .needMore: return .needMore
        case .failed(let error): return .failed(error)
        case .found(let bounds): head = bounds
        }
        do {
            let line = head.requestLine
            let headers = try parseHeaderLines(bytes[(head.requestLineEnd + 2)..<(head.end - 2)], limits: limits)
            try HeaderRules.requireHost(in: headers, version: line.version)
            let bodyLength = try HeaderRules.bodyLength(of: headers, limits: limits)
            guard bytes.endIndex - head.end >= bodyLength else { return .needMore }
            let request = HTTPRequest(
                method: line.method, target: line.target, version: line.version, headers: headers,
                body: Array(bytes[head.end..<(head.end + bodyLength)]))
            return .complete(request, consumed: head.end + bodyLength - bytes.startIndex)
        } catch {
            return .failed(error)
        }
    }

    struct HeadBounds {
        let requestLine: RequestLine
        /// Index of the CR that ends the request line.
        let requestLineEnd: Int
        /// Index just past the CRLF CRLF that ends the head.
        let end: Int
    }

    enum HeadScan {
        case needMore
        case failed(HTTPParseError)
        case found(HeadBounds)
    }

    /// Finds the end of the head, failing as early as the bytes allow: a bare LF, a control
    /// byte in the request line or a bad request line is refused before the head completes, so
    /// garbage is not held until the head limit or the read timeout.
    func locateHead(_ bytes: ArraySlice<UInt8>) -> HeadScan {
        let start = bytes.startIndex
        let scanEnd = min(bytes.endIndex, start + limits.maxHeadBytes)
        var requestLine: RequestLine?
        var requestLineEnd = start
        var lineStart = start
        var index = start
        while index < scanEnd {
            let byte = bytes[index]
            if byte == .lineFeed { return .failed(HTTPParseError(.badRequest, "line ends in a bare LF")) }
            if byte == .carriageReturn {
                guard index + 1 < bytes.endIndex else { return .needMore }
                guard bytes[index + 1] == .lineFeed else { return .failed(HTTPParseError(.badRequest, "CR not followed by LF")) }
                if let requestLine, index == lineStart {
                    guard index + 2 - start <= limits.maxHeadBytes else { break }
                    return .found(HeadBounds(requestLine: requestLine, requestLineEnd: requestLineEnd, end: index + 2))
                }
                if requestLine == nil {
                    if index == start { return .failed(HTTPParseError(.badRequest, "empty request line")) }
                    do { requestLine = try RequestLine(bytes[start..<index]) } catch { return .failed(error) }
                    requestLineEnd = index
                }
                index += 2
                lineStart = index
                continue
            }
            if requestLine == nil && !byte.isRequestLineByte {
                return .failed(HTTPParseError(.badRequest, "control or non-ASCII byte in the request line"))
            }
            index += 1
        }
        guard bytes.count > limits.maxHeadBytes || index < scanEnd else { return .needMore }
        if requestLine == nil {
            return .failed(HTTPParseError(.uriTooLong, "request line longer than \(limits.maxHeadBytes) bytes"))
        }
        return .failed(HTTPParseError(.headerFieldsTooLarge, "head longer than \(limits.maxHeadBytes) bytes"))
    }
}
