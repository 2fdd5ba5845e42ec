import CascadeDomain
import Foundation
import Kafka
import Synchronization

/// Counts what arrives on the output topics, and for downstream requests whose input carries
/// `sent_us`, how long after that they arrived, and how long after it they were produced (the
/// message's create time): the part before the last broker hop.
final class OutputCounter: Sendable {
    struct State {
        var counts: [String: Int] = [:]
        var firstArrival: Date?
        var lastArrival: Date?
        var latenciesMs: [Double] = []
        var producedAfterMs: [Double] = []
    }
    private let state = Mutex(State())
    private let stopRequested = Latch<Void>()
    private let done = Latch<Void>()

    init(brokers: String, topics: [String], group: String, overrides: [String]) throws {
        var config = KafkaConfig([
            "bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest",
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000", "log_level": "3",
        ])
        for property in overrides { try config.apply(override: property) }
        // Handed to the thread below and never touched here again: it stays on one thread.
        nonisolated(unsafe) let consumer = try KafkaConsumer(config: config)
        try consumer.subscribe(topics)
        let thread = Thread { [self] in
            while !stopRequested.isOpen {
                guard let batch = try? consumer.poll(maxMessages: 2000, timeoutMs: 50), !batch.isEmpty else { continue }
                let now = Date()
                let nowUs = now.timeIntervalSince1970 * 1e6
                var latencies: [Double] = []
                var produced: [Double] = []
                for m in batch {
                    // A cheap check before parsing: only latency-run requests carry sent_us.
                    // Downstream requests carry it in `input`; reports passed straight through, in `output`.
                    guard let value = m.value, value.count < 2048, containsSentTime(value),
                          let json = try? JSONParser.parse(value),
                          case .number(let sent)? = json["input"]?["sent_us"] ?? json["output"]?["sent_us"],
                          let sentUs = Double(sent) else { continue }
                    latencies.append((nowUs - sentUs) / 1000)
                    if let createdMs = m.timestampMs { produced.append(Double(createdMs) - sentUs / 1000) }
                }
                state.withLock { s in
                    for m in batch { s.counts[m.topic, default: 0] += 1 }
                    if s.firstArrival == nil { s.firstArrival = now }
                    s.lastArrival = now
                    s.latenciesMs += latencies
                    s.producedAfterMs += produced
                }
            }
            try? consumer.close()
            done.open()
        }
        thread.start()
    }

    var snapshot: State { state.withLock { $0 } }
    func count(_ topic: String) -> Int { state.withLock { $0.counts[topic] ?? 0 } }

    func stop() {
        stopRequested.open()
        done.wait()
    }
}

/// Peak and sampled resident memory of a process, from /proc.
final class MemorySampler: Sendable {
    private let samples = Mutex<[Int]>([])
    private let stopRequested = Latch<Void>()

    init(pid: pid_t) {
        let thread = Thread { [self] in
            while !stopRequested.isOpen {
                if let kb = Self.residentKB(pid) { samples.withLock { $0.append(kb) } }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread.start()
    }

    func stop() -> [Int] {
        stopRequested.open()
        return samples.withLock { $0 }
    }

    static func residentKB(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}

private let sentTimeKey = Array("\"sent_us\"".utf8)

/// A scan for the key, so the drain phases (whose messages have none) parse nothing.
func containsSentTime(_ value: [UInt8]) -> Bool {
    guard value.count >= sentTimeKey.count else { return false }
    for start in 0...(value.count - sentTimeKey.count) where value[start] == sentTimeKey[0] {
        if value[start..<start + sentTimeKey.count].elementsEqual(sentTimeKey) { return true }
    }
    return false
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

/// The middle value; the mean of the two middle ones for an even count.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

func shell(_ command: String) -> String {
    let pipe = Pipe()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "" }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

func say(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

/// The latency floor: consumes a topic and produces every message to another at once, with
/// the relay's producer settings. What a report pays for the two broker hops alone.
final class Passthrough: Sendable {
    private let stopRequested = Latch<Void>()
    private let done = Latch<Void>()

    init(consumerConfig: KafkaConfig, producerConfig: KafkaConfig, from: String, to: String) throws {
        // Handed to the thread below and never touched here again: it stays on one thread.
        nonisolated(unsafe) let consumer = try KafkaConsumer(config: consumerConfig)
        let producer = try KafkaProducer(config: producerConfig)
        try consumer.subscribe([from])
        let thread = Thread { [self] in
            while !stopRequested.isOpen {
                guard let batch = try? consumer.poll(maxMessages: 500, timeoutMs: 50) else { continue }
                for m in batch { try? producer.send(OutgoingMessage(topic: to, key: m.key, value: m.value)) { _ in } }
            }
            try? consumer.close()
            try? producer.close()
            done.open()
        }
        thread.start()
    }

    func stop() {
        stopRequested.open()
        done.wait()
    }
}
