import Dispatch
import Foundation
import ServiceThreads
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server: one dedicated thread running `poll(2)` over non-blocking sockets.
/// Meant for internal endpoints (metrics, a small gateway), not for serving the world.
///
/// The handler runs on the server thread, one request at a time, so it must be quick and must
/// not block; while it runs, no other connection is served. A handler that throws answers
/// 500 and the server carries on. (A trap in the handler, as anywhere in Swift, ends the process.)
public final class HTTPServer: Sendable {
    /// Bounds that keep one client from costing more than its own slot.
    public struct Limits: Sendable, Equatable {
        /// Open connections at once (at least 1). At the cap, a newcomer replaces a draining,
        /// then an idle, then the oldest unfinished connection; only when every connection is
        /// sending a response do newcomers wait in the listen backlog (see ServerLoop+Accept).
        public var maxConnections: Int
        /// From accept (first request) or from a request's first byte (later ones) until the
        /// request is complete; then 408 and close.
        public var readTimeout: Duration
        /// Between keep-alive requests; then the connection is closed without a word.
        public var idleTimeout: Duration
        /// For a whole response to be sent; a client that stops reading is dropped.
        public var writeTimeout: Duration
        /// Head and body sizes, enforced by the parser.
        public var request: HTTPRequestLimits

        public init(maxConnections: Int = 64, readTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(30),
                    writeTimeout: Duration = .seconds(5), request: HTTPRequestLimits = HTTPRequestLimits()) {
            self.maxConnections = maxConnections
            self.readTimeout = readTimeout
            self.idleTimeout = idleTimeout
            self.writeTimeout = writeTimeout
            self.request = request
        }
    }

    public let address: ListenAddress
    /// The bound port: the one asked for, or the kernel's pick for port 0.
    public let port: Int
    private let limits: Limits
    private let allowedMethods: Set<String>
    private let handler: @Sendable (HTTPRequest) throws -> HTTPResponse
    private let listener: Int32
    private let wake: (reader: Int32, writer: Int32)
    private let lifecycle = Mutex(Lifecycle.ready)
    private let loopRunning = DispatchGroup()

    private enum Lifecycle { case ready, running, stopped }

    /// Binds and listens at once, so a port in use fails here, with the address in the message.
    /// - Parameters:
    ///   - address: `HOST:PORT`, see `ListenAddress.parse`.
    ///   - allowedMethods: methods passed to the handler; others get 405 with `Allow`.
    ///     Responses to HEAD are not special-cased, so allowing HEAD is a mistake.
    public convenience init(listen address: String, limits: Limits = Limits(), allowedMethods: Set<String> = ["GET"],
                            handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) throws(HTTPServerError) {
        let parsed: ListenAddress
        do { parsed = try ListenAddress.parse(address) } catch { throw .invalidAddress(error) }
        try self.init(listen: parsed, limits: limits, allowedMethods: allowedMethods, handler: handler)
    }

    public init(listen address: ListenAddress, limits: Limits = Limits(), allowedMethods: Set<String> = ["GET"],
                handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) throws(HTTPServerError) {
        let (listener, port) = try openListener(address)
        do { wake = try openWakePair() } catch {
            close(listener)
            throw error
        }
        self.address = address
        self.port = port
        self.listener = listener
        self.limits = limits
        self.allowedMethods = allowedMethods
        self.handler = handler
    }

    deinit {
        stop()
    }

    /// Starts serving on a thread named `cascade-http`. Does nothing if already started or stopped.
    public func start() {
        let starting = lifecycle.withLock { state in
            guard state == .ready else { return false }
            state = .running
            return true
        }
        guard starting else { return }
        // The thread holds what it needs, not `self`, so dropping the server stops it (deinit).
        let (listener, wakeReader, group) = (listener, wake.reader, loopRunning)
        let (maxConnections, policy, handler) = (limits.maxConnections, connectionPolicy(), handler)
        group.enter()
        startServiceThread("cascade-http") {
            ServerLoop(listener: listener, wakeReader: wakeReader, maxConnections: maxConnections,
                       policy: policy, handler: handler).run()
            group.leave()
        }
    }

    /// Stops serving and closes the listener and every connection. Returns once all are closed;
    /// waits for a handler that is running to finish, so it must not be called from the handler.
    public func stop() {
        let wasRunning = lifecycle.withLock { state in
            defer { state = .stopped }
            return state
        }
        switch wasRunning {
        case .ready:
            closeServerSockets()
        case .running:
            var byte: UInt8 = 1
            _ = send(wake.writer, &byte, 1, Int32(MSG_NOSIGNAL))
            loopRunning.wait()
            closeServerSockets()
        case .stopped:
            loopRunning.wait()
        }
    }

    private func closeServerSockets() {
        close(listener)
        close(wake.reader)
        close(wake.writer)
    }

    private func connectionPolicy() -> ConnectionPolicy {
        ConnectionPolicy(
            parser: HTTPRequestParser(limits: limits.request), allowedMethods: allowedMethods,
            readTimeout: limits.readTimeout, idleTimeout: limits.idleTimeout, writeTimeout: limits.writeTimeout,
            date: { httpDate(secondsSinceEpoch: Int(time(nil))) })
    }
}

