import CascadeDomain
import CascadeService
import Foundation

/// Bearer tokens for the `--auth jwt` drain and the verification figures, minted by PyJWT
/// (scripts/contracts/mint_bench_tokens.py), with the JWKS that verifies them.
struct BenchTokens {
    static let issuer = "https://cascade-bench.example"
    let directory: String
    let rs256: [String]
    let es256: [String]

    var jwksPath: String { directory + "/jwks.json" }
    var consumerArguments: [String] { ["--auth", "jwt", "--jwks", jwksPath, "--issuer", Self.issuer] }

    static func mint(count: Int) throws -> BenchTokens {
        let directory = NSTemporaryDirectory() + "cascade-bench-tokens-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let status = shell("python3 scripts/contracts/mint_bench_tokens.py '\(directory)' '\(issuer)' \(count) && echo minted")
        guard status.hasSuffix("minted") else { fail("minting tokens needs python3 with PyJWT and cryptography (scripts/test-tools.sh)") }
        func lines(_ name: String) throws -> [String] {
            try String(contentsOfFile: "\(directory)/\(name).txt", encoding: .utf8).split(separator: "\n").map(String.init)
        }
        return BenchTokens(directory: directory, rs256: try lines("rs256"), es256: try lines("es256"))
    }

    /// Microseconds per verification: each token once on a fresh verifier (cold), then again (cached).
    func verificationCost(_ headers: [String]) throws -> (cold: Double, cached: Double) {
        let verifier = try JWTAuthorizer(settings: .init(jwksPath: jwksPath, policy: TokenPolicy(issuer: Self.issuer)))
        let reports = headers.map {
            CompletionReport(modelId: "m", modelVersion: "v1", jobId: "j", status: .success, authorization: $0,
                             source: ReportSource(topic: "t", partition: 0, offset: 0))
        }
        func time(_ body: () -> Void) -> Double {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(reports.count)
        }
        var refused = 0
        let cold = time { for r in reports where verifier.authorize(r) != .allowed { refused += 1 } }
        let cached = time { for r in reports where verifier.authorize(r) != .allowed { refused += 1 } }
        if refused > 0 { fail("\(refused) bench tokens were refused") }
        return (cold, cached)
    }
}
