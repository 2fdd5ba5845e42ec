import Foundation
import Kafka

/// Where the real services for integration tests are. `make test` (scripts/services.sh)
/// starts them and exports these variables; a test without them fails and says so, because a
/// test that silently skips cannot catch anything.
public enum TestEnvironment {
    public static var brokers: String {
        get throws { try required("CASCADE_BROKERS") }
    }

    public static var databaseURL: String {
        get throws { try required("DATABASE_URL") }
    }

    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// A name no other test (or earlier run against the same broker) has used.
    public static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Tansu takes about session.timeout.ms/2 to form a group; these keep joins near 3 s.
    public static func consumerConfig(brokers: String, group: String) -> KafkaConfig {
        KafkaConfig([
            "bootstrap.servers": brokers,
            "group.id": group,
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "1000",
            "auto.offset.reset": "earliest",
            // Readers of topics a test creates later find them within a second.
            "topic.metadata.refresh.interval.ms": "1000",
            "log_level": "3",
        ])
    }

    public static func producerConfig(brokers: String) -> KafkaConfig {
        KafkaConfig(["bootstrap.servers": brokers, "log_level": "3"])
    }

    private static func required(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw MissingService(variable: name)
        }
        return value
    }

    public struct MissingService: Error, CustomStringConvertible {
        public let variable: String
        public var description: String {
            "\(variable) is not set: run the tests with `make test`, which starts PostgreSQL and the broker"
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
@discardableResult
public func eventually(timeout: TimeInterval = 20, interval: TimeInterval = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return try condition()
}

/// Runs a shell command from the repository root and returns its exit status. Uses
/// posix_spawn and waitpid: Foundation's Process can wait forever when the command leaves a
/// daemon behind (pg_ctl start does).
@discardableResult
public func runScript(_ command: String) throws -> Int32 {
    let script = "cd '\(TestEnvironment.repositoryRoot.path)' && \(command)"
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup("-c"), strdup(script), nil]
    defer { argv.forEach { free($0) } }
    let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, argv, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status >> 8) & 0xff
}
