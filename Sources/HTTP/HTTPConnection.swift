/// What a connection needs to know besides its bytes. Internal: the server builds it from
/// `HTTPServer.Limits`, tests build it directly.
struct ConnectionPolicy: Sendable {
    var parser = HTTPRequestParser()
    var allowedMethods: Set<String> = ["GET"]
    var readTimeout: Duration = .seconds(5)
    var idleTimeout: Duration = .seconds(30)
    var writeTimeout: Duration = .seconds(5)
    /// Value of the `Date` header, asked once per response.
    var date: @Sendable () -> String? = { nil }

    /// After a final response, how long to keep reading (and discarding) so that the kernel does
    /// not answer unread request bytes with a reset that could destroy the response in flight.
    var lingerTime: Duration { min(readTimeout, .seconds(2)) }
    var lingerBytes: Int { 64 * 1024 }
}

/// One connection's HTTP state with no socket in it: the driver reports what happened (bytes
/// arrived, bytes went out, input ended, time passed) and then reads back what to do
/// (`wantsToRead`, `pendingOutput`, `phase`). Requests are served one at a time, in order, so
/// pipelined requests wait in `inbound` until the previous response is fully sent.
struct HTTPConnection {
    enum Phase: Equatable {
        /// Nothing buffered: a new connection, or keep-alive between requests. Safe to close.
        case awaitingRequest
        /// Part of a request has arrived; `deadline` ends its read timeout.
        case readingRequest
        /// A response is going out; nothing more is read until it has (back-pressure).
        case sendingResponse
        /// The final response is out and our side is shut; reading only to discard.
        case draining
        case closed
    }

    private(set) var phase = Phase.awaitingRequest
    /// When the current phase times out. A new connection's first request is timed from accept.
    private(set) var deadline: ContinuousClock.Instant
    private let policy: ConnectionPolicy
    private var inbound: [UInt8] = []
    private var outbound: [UInt8] = []
    private var sentCount = 0
    private var closeAfterSending = false
    private var inputEnded = false
    private var servedAny = false
    private var drainedBytes = 0

    init(policy: ConnectionPolicy, at now: ContinuousClock.Instant) {
        self.policy = policy
        deadline = now + policy.readTimeout
    }

    /// Reading stops once a request could not grow without failing the parser's limits, so a
    /// connection never buffers more than one request's worth (plus one read).
    var wantsToRead: Bool {
        switch phase {
        case .awaitingRequest, .readingRequest:
            // One byte past the largest acceptable request is enough for the parser to decide.
            inbound.count <= policy.parser.limits.maxHeadBytes + policy.parser.limits.maxBodyBytes
        case .draining: true
        case .sendingResponse, .closed: false
        }
    }

    var pendingOutput: ArraySlice<UInt8> { outbound[sentCount...] }

    /// Accepted and nothing received yet: a client about to speak, or a silent attacker.
    var isSilentNewcomer: Bool { phase == .awaitingRequest && !servedAny }

    mutating func received(_ bytes: ArraySlice<UInt8>, at now: ContinuousClock.Instant, respond: (HTTPRequest) -> HTTPResponse) {
        switch phase {
        case .awaitingRequest, .readingRequest:
            inbound += bytes
            serveBufferedRequest(at: now, respond: respond)
        case .draining:
            drainedBytes += bytes.count
            if drainedBytes > policy.lingerBytes { phase = .closed }
        case .sendingResponse, .closed:
            break
        }
    }

    /// The peer shut its sending side (read returned 0).
    mutating func inputDidEnd() {
        inputEnded = true
        switch phase {
        // Every complete request was served as it arrived, so what is buffered can never complete.
        case .awaitingRequest, .readingRequest, .draining: phase = .closed
        case .sendingResponse: closeAfterSending = true
        case .closed: break
        }
    }

    mutating func sent(_ count: Int, at now: ContinuousClock.Instant, respond: (HTTPRequest) -> HTTPResponse) {
        guard phase == .sendingResponse else { return }
        sentCount += count
        guard sentCount >= outbound.count else { return }
        outbound = []
        sentCount = 0
        if closeAfterSending {
            inbound = []
            phase = inputEnded ? .closed : .draining
            deadline = now + policy.lingerTime
            return
        }
        servedAny = true
        phase = .awaitingRequest
        deadline = now + policy.idleTimeout
        serveBufferedRequest(at: now, respond: respond)
    }

    /// Applies the current phase's timeout if `now` has reached `deadline`.
    mutating func timeElapsed(at now: ContinuousClock.Instant) {
        guard now >= deadline else { return }
        switch phase {
        case .awaitingRequest, .sendingResponse, .draining:
            phase = .closed
        case .readingRequest:
            inbound = []
            queue(HTTPResponse(status: .requestTimeout, text: "request not received within the read timeout\n"), keepAlive: false, at: now)
        case .closed:
            break
        }
    }

    /// The socket failed; nothing more can be said on it.
    mutating func abort() {
        phase = .closed
    }

    private mutating func serveBufferedRequest(at now: ContinuousClock.Instant, respond: (HTTPRequest) -> HTTPResponse) {
        switch policy.parser.parse(inbound) {
        case .needMore:
            if inputEnded {
                phase = .closed
            } else if phase == .awaitingRequest && !inbound.isEmpty {
                phase = .readingRequest
                if servedAny { deadline = now + policy.readTimeout }
            }
        case .failed(let error):
            inbound = []
            queue(HTTPResponse(status: error.status, text: "\(error.reason)\n"), keepAlive: false, at: now)
        case .complete(let request, let consumed):
            inbound.removeFirst(consumed)
            let response = policy.allowedMethods.contains(request.method) ? respond(request) : methodNotAllowed(request)
            queue(response, keepAlive: request.keepAlive && !inputEnded, at: now)
        }
    }

    private mutating func queue(_ response: HTTPResponse, keepAlive: Bool, at now: ContinuousClock.Instant) {
        outbound = response.serialized(keepAlive: keepAlive, date: policy.date())
        sentCount = 0
        closeAfterSending = !keepAlive
        phase = .sendingResponse
        // The whole response must leave within the write timeout, not merely make progress,
        // so a client reading one byte at a time cannot hold the slot forever.
        deadline = now + policy.writeTimeout
    }

    private func methodNotAllowed(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(
            status: .methodNotAllowed, text: "\(request.method) is not allowed\n",
            headers: ["Allow": policy.allowedMethods.sorted().joined(separator: ", ")])
    }
}
