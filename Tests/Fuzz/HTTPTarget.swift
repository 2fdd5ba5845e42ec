import HTTP

/// HTTPRequestParser over any bytes, under the default limits and under small ones (so the
/// head, header-count and body limits are all reachable within libFuzzer's input sizes).
///
/// The parser is stateless: a connection hands it everything received so far. So, beyond not
/// crashing, for every prefix of the input, in order of length, the verdicts are `needMore`
/// until the first verdict that is not, and that verdict never changes again: a refusal means
/// "can never become acceptable", and a complete request is not altered by what follows it
/// (pipelining). Also: the same bytes inside a larger buffer parse the same (`consumed`
/// counts from the slice's start), and what it produces stays within the limits.
func fuzzHTTP(_ data: UnsafeRawBufferPointer) {
    let input = Array(data)
    for parser in parsers {
        let verdict = parser.parse(input)
        checkVerdict(verdict, input, parser.limits)
        let padded = [UInt8]("\r\n".utf8) + input + [UInt8]("\r\n\r\n".utf8)
        require(parser.parse(padded[2..<(2 + input.count)]) == verdict, "a slice parses differently from the same bytes alone")
    }
    // Under the small limits only, where every limit is in reach: the prefix walk is most of
    // this target's cost.
    checkPrefixes(of: input, parsers[1])
}

private let parsers = [
    HTTPRequestParser(),
    HTTPRequestParser(limits: HTTPRequestLimits(maxHeadBytes: 200, maxBodyBytes: 48, maxHeaderCount: 6)),
]

private extension UInt8 {
    static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
}

private let refusalCodes: Set<Int> = [400, 413, 414, 431, 501, 505]

private func checkVerdict(_ verdict: HTTPParseResult, _ input: [UInt8], _ limits: HTTPRequestLimits) {
    switch verdict {
    case .needMore:
        break
    case .failed(let error):
        require(refusalCodes.contains(error.status.code), "unexpected status \(error)")
    case .complete(let request, let consumed):
        require((1...input.count).contains(consumed), "consumed \(consumed) of \(input.count)")
        require(consumed - request.body.count <= limits.maxHeadBytes, "head over \(limits.maxHeadBytes) bytes")
        require(request.body.count <= limits.maxBodyBytes, "body of \(request.body.count) over \(limits.maxBodyBytes)")
        require(request.body == Array(input[(consumed - request.body.count)..<consumed]), "body is not the bytes before `consumed`")
        require(request.headers.count <= limits.maxHeaderCount, "\(request.headers.count) headers")
        require(request.target.hasPrefix("/"), "target \(request.target.debugDescription)")
        require(!request.method.isEmpty && !request.method.utf8.contains { $0 <= 0x20 || $0 >= 0x7F }, "method")
        for field in request.headers {
            require(!field.value.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F },
                    "control character in header value \(field.value.debugDescription)")
            require(!field.name.isEmpty && !field.name.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ":") },
                    "header name \(field.name.debugDescription)")
        }
        _ = (request.path, request.query, request.keepAlive)
    }
}

/// Every prefix of a short input; of a longer one, an even sample plus the lengths around each
/// line end and around the point a request completes, where verdicts change. Every prefix of
/// every input made the check quadratic: 1,500 inputs a second instead of tens of thousands.
private func checkPrefixes(of input: [UInt8], _ parser: HTTPRequestParser) {
    var lengths: [Int]
    if input.count <= 48 {
        lengths = Array(0...input.count)
    } else {
        lengths = stride(from: 0, through: input.count, by: input.count / 16).map { $0 } + [input.count]
        for index in input.indices.lazy.filter({ input[$0] == .cr || input[$0] == .lf }).prefix(24) {
            lengths += [index, index + 1, index + 2]
        }
        if case .complete(_, let consumed) = parser.parse(input) { lengths += [consumed - 2, consumed - 1, consumed] }
        lengths = Set(lengths.filter { (0...input.count).contains($0) }).sorted()
    }
    var settled: HTTPParseResult?
    for length in lengths {
        let verdict = parser.parse(input[..<length])
        if let settled {
            require(verdict == settled, "\(length)-byte prefix: \(verdict), a shorter prefix already gave \(settled): \(show(input))")
        } else if verdict != .needMore {
            settled = verdict
        }
    }
}
