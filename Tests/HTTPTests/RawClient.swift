import Foundation
import HTTP
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for tests. Every read has a timeout (SO_RCVTIMEO), so a server that
/// never answers fails the test instead of hanging it.
final class RawClient {
    struct Response {
        let status: Int
        /// Names lowercased.
        let headers: [String: String]
        let body: String
    }

    enum Failure: Error { case connect(Int32), timedOut, closedEarly, socket(Int32), malformed(String) }

    private let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, timeout: Duration = .seconds(5)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.socket(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let code = errno
            close(fd)
            throw Failure.connect(code)
        }
        setTimeout(timeout)
    }

    deinit { close(fd) }

    func setTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw Failure.socket(errno) }
            offset += count
        }
    }

    /// Reads one response framed by Content-Length (every response this server sends is).
    func readResponse() throws -> Response {
        var headEnd = pending.firstRange(of: Array("\r\n\r\n".utf8))
        while headEnd == nil {
            guard try receiveMore() else { throw Failure.closedEarly }
            headEnd = pending.firstRange(of: Array("\r\n\r\n".utf8))
        }
        let lines = String(decoding: pending[..<headEnd!.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure.malformed(lines[0]) }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw Failure.malformed(line) }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while pending.count < headEnd!.upperBound + length {
            guard try receiveMore() else { throw Failure.closedEarly }
        }
        let body = String(decoding: pending[headEnd!.upperBound..<(headEnd!.upperBound + length)], as: UTF8.self)
        pending.removeFirst(headEnd!.upperBound + length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Waits for the server to close (EOF or reset) and returns how many bytes arrived before
    /// it; nil if the timeout passed first.
    func waitForClose() -> Int? {
        var received = pending.count
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += count
                continue
            }
            if count == 0 || errno == ECONNRESET { return received }
            return nil
        }
    }

    /// False on EOF; throws on timeout.
    private func receiveMore() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            pending += buffer[..<count]
            return true
        }
        if count == 0 { return false }
        if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure.timedOut }
        throw Failure.socket(errno)
    }
}

/// Whether a connection to 127.0.0.1:`port` is refused, i.e. nothing listens there.
func connectionRefused(port: Int) throws -> Bool {
    do {
        _ = try RawClient(port: port, timeout: .seconds(1))
        return false
    } catch RawClient.Failure.connect(let code) where code == ECONNREFUSED {
        return true
    }
}
