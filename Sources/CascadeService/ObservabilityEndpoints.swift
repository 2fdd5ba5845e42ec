import HTTP
import Metrics

/// What `consume`'s HTTP port answers: `/metrics` (Prometheus text 0.0.4), `/healthz`
/// (liveness) and `/readyz` (readiness), each 200 or 503 with the reasons in the body.
/// Everything it reads is already in memory (ServiceTelemetry), so an answer never waits for
/// Kafka or PostgreSQL.
public enum ObservabilityEndpoints {
    public static let paths = ["/metrics", "/healthz", "/readyz"]

    public static func respond(to request: HTTPRequest, telemetry: ServiceTelemetry) -> HTTPResponse {
        switch request.path {
        case "/metrics":
            return HTTPResponse(status: .ok, contentType: MetricsRegistry.contentType, body: Array(telemetry.metrics.render().utf8))
        case "/healthz":
            return verdict(telemetry.liveness(), healthy: "live")
        case "/readyz":
            return verdict(telemetry.readiness(), healthy: "ready")
        default:
            return HTTPResponse(status: .notFound, text: "no such path; try \(paths.joined(separator: ", "))\n")
        }
    }

    private static func verdict(_ verdict: ServiceHealth.Verdict, healthy: String) -> HTTPResponse {
        if verdict.healthy { return HTTPResponse(status: .ok, text: "\(healthy)\n") }
        return HTTPResponse(status: .serviceUnavailable, text: verdict.reasons.map { $0 + "\n" }.joined())
    }
}
