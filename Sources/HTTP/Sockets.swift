#if canImport(Glibc)
import Glibc
#endif

// Thin wrappers over the socket calls the server makes. Every descriptor is created
// non-blocking and close-on-exec in the same call, so no fork can inherit it half-made.

let nonBlockingCloseOnExec = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

/// Opens, binds and listens; returns the descriptor and the bound port (useful for port 0).
func openListener(_ address: ListenAddress) throws(HTTPServerError) -> (descriptor: Int32, port: Int) {
    let domain = address.family == .ipv4 ? AF_INET : AF_INET6
    let fd = socket(domain, Int32(SOCK_STREAM.rawValue) | nonBlockingCloseOnExec, 0)
    guard fd >= 0 else { throw .cannotListen(address: address.description, step: "socket", errno: errno) }
    do throws(HTTPServerError) {
        // So a restarted service can bind while old connections sit in TIME_WAIT.
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw HTTPServerError.cannotListen(address: address.description, step: "setsockopt", errno: errno)
        }
        try withSocketAddress(address) { pointer, length throws(HTTPServerError) in
            guard bind(fd, pointer, length) == 0 else {
                throw .cannotListen(address: address.description, step: "bind", errno: errno)
            }
        }
        guard listen(fd, SOMAXCONN) == 0 else {
            throw HTTPServerError.cannotListen(address: address.description, step: "listen", errno: errno)
        }
        return (fd, try boundPort(fd, address: address))
    } catch {
        close(fd)
        throw error
    }
}

private func withSocketAddress(
    _ address: ListenAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(HTTPServerError) -> Void
) throws(HTTPServerError) {
    let port = in_port_t(address.port).bigEndian
    switch address.family {
    case .ipv4:
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = port
        inet_pton(AF_INET, address.host, &storage.sin_addr)
        try withUnsafePointer(to: &storage) { pointer throws(HTTPServerError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(HTTPServerError) in
                try body(address, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    case .ipv6:
        var storage = sockaddr_in6()
        storage.sin6_family = sa_family_t(AF_INET6)
        storage.sin6_port = port
        inet_pton(AF_INET6, address.host, &storage.sin6_addr)
        try withUnsafePointer(to: &storage) { pointer throws(HTTPServerError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(HTTPServerError) in
                try body(address, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }
}

private func boundPort(_ fd: Int32, address: ListenAddress) throws(HTTPServerError) -> Int {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard status == 0 else { throw .cannotListen(address: address.description, step: "getsockname", errno: errno) }
    return withUnsafePointer(to: &storage) { pointer in
        switch address.family {
        case .ipv4: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(in_port_t(bigEndian: $0.pointee.sin_port)) }
        case .ipv6: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(in_port_t(bigEndian: $0.pointee.sin6_port)) }
        }
    }
}

/// A connected pair used to wake `poll(2)`: one byte written to `writer` makes `reader` readable.
func openWakePair() throws(HTTPServerError) -> (reader: Int32, writer: Int32) {
    var pair: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | nonBlockingCloseOnExec, 0, &pair) == 0 else {
        throw .wakePipe(errno: errno)
    }
    return (pair[0], pair[1])
}

private typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

/// Glibc's Swift overlay hides `accept4` (it sits behind `_GNU_SOURCE`), so it is found once at
/// run time; it exists on every Linux since 2.6.28.
private let accept4Function: Accept4? = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4.self) }

/// Accepts one pending connection, non-blocking and close-on-exec; -1 with `errno` set otherwise.
func acceptConnection(_ listener: Int32) -> Int32 {
    let fd: Int32
    if let accept4Function {
        fd = accept4Function(listener, nil, nil, nonBlockingCloseOnExec)
    } else {
        fd = accept(listener, nil, nil)
        guard fd >= 0 else { return fd }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    guard fd >= 0 else { return fd }
    // Each response goes out in one send, so Nagle could only delay the second of two
    // pipelined responses behind the client's delayed ACK (40 ms on Linux).
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

/// Why the server could not start.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(ListenAddressError)
    case cannotListen(address: String, step: String, errno: Int32)
    case wakePipe(errno: Int32)

    public var description: String {
        switch self {
        case .invalidAddress(let error): error.description
        case .cannotListen(let address, let step, let code): "cannot listen on \(address): \(step): \(String(cString: strerror(code)))"
        case .wakePipe(let code): "cannot create the HTTP server's wake-up socket pair: \(String(cString: strerror(code)))"
        }
    }
}
