// swift-tools-version:6.0
import PackageDescription

// Layers, arrows one way: C modules -> Kafka / Postgres / Crypto (owners of the C handles)
// -> CascadeDomain (pure, no I/O) -> CascadeService (wiring) -> cascade (the command).
let package = Package(
    name: "Cascade",
    platforms: [.macOS(.v15)],  // Synchronization (Mutex, Atomic) needs 15
    products: [
        .executable(name: "cascade", targets: ["cascade"]),
        .executable(name: "cascade-bench", targets: ["cascade-bench"]),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .target(name: "CivilCalendar"),
        // The owner of libcrypto: SHA-256, HMAC-SHA256 and JWS signature verification (RS256, ES256).
        .target(name: "Crypto", dependencies: ["CLibCrypto"]),
        // A small HTTP/1.1 server (pure request parser + poll(2) loop on its own thread), and
        // Prometheus metrics (registry, text exposition, /proc process metrics). No C beyond libc.
        .target(name: "ServiceThreads"),
        .target(name: "HTTP", dependencies: ["ServiceThreads"]),
        .target(name: "Metrics"),
        .target(name: "Kafka", dependencies: ["CRdKafka", "ServiceThreads"]),
        // librdkafka's mock cluster, for tests, the benchmark and the demo; never the service.
        .target(name: "KafkaMock", dependencies: ["CRdKafka", "Kafka"]),
        .target(name: "Postgres", dependencies: ["CLibPQ", "CivilCalendar"]),
        .target(name: "CascadeDomain", dependencies: ["CivilCalendar"]),
        .target(name: "CascadeService", dependencies: ["Kafka", "Postgres", "Crypto", "CascadeDomain", "HTTP", "Metrics", "ServiceThreads"]),
        .target(name: "CascadeCLI", dependencies: ["CascadeService", "Crypto", "HTTP", "Kafka", "KafkaMock", "Metrics", "Postgres", "CascadeDomain"]),
        .executableTarget(name: "cascade", dependencies: ["CascadeCLI"]),
        .executableTarget(name: "cascade-bench", dependencies: ["CascadeService", "CascadeDomain", "HTTP", "Kafka", "KafkaMock", "Metrics", "Postgres"],
                          path: "Sources/CascadeBench"),
        .target(name: "TestSupport", dependencies: ["Kafka", "Metrics", "Postgres"], path: "Tests/Support"),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KafkaMock", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "CLibCrypto"]),
        .testTarget(name: "CascadeDomainTests", dependencies: ["CascadeDomain", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "CascadeCLITests", dependencies: ["CascadeCLI", "CascadeService", "Kafka", "Metrics"]),
        // The service layer's pure decisions: no broker, no database.
        .testTarget(name: "CascadeServiceTests", dependencies: ["CascadeService", "CascadeDomain", "Kafka", "Postgres"]),
        .testTarget(name: "PipelineTests", dependencies: ["CascadeService", "CascadeDomain", "Kafka", "KafkaMock", "Postgres", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer harness (Tests/Fuzz; scripts/fuzz.sh, `make fuzz`). Only under CASCADE_FUZZ=1:
// it needs libFuzzer's main (--sanitize=fuzzer), and `make build` / `make test` never build it.
if Context.environment["CASCADE_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "CascadeFuzz", dependencies: ["CascadeDomain", "HTTP"], path: "Tests/Fuzz",
                                             exclude: ["corpus", "regressions"]))
}
