import XCTest
import HTTP

extension XCTestCase {
    /// A started server on 127.0.0.1 and a free port, stopped when the test ends.
    func startServer(limits: HTTPServer.Limits = HTTPServer.Limits(),
                     handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse = metricsHandler) throws -> HTTPServer {
        let server = try HTTPServer(listen: "127.0.0.1:0", limits: limits, handler: handler)
        server.start()
        addTeardownBlock { server.stop() }
        return server
    }
}

/// Serves `/metrics`, 404 elsewhere: the shape of the real endpoint.
@Sendable func metricsHandler(_ request: HTTPRequest) -> HTTPResponse {
    guard request.path == "/metrics" else { return HTTPResponse(status: .notFound, text: "no such path\n") }
    return HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: Array("up 1\n".utf8))
}

let getMetrics = "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n"
