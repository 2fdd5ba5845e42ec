import Foundation
import Kafka

/// Malformed reports covering every validation rule and every field (docs/CONTRACTS.md), each
/// of which must become a dead letter with its reason and, where it names a job, a 400.
enum PoisonReports {
    /// One bad value per rule (nil: a tombstone). `job` makes ids unique per copy.
    static func kinds(model: String) -> [(name: String, value: (String) -> [UInt8]?)] {
        func text(_ body: @escaping (String) -> String) -> (String) -> [UInt8]? { { Array(body($0).utf8) } }
        let good = #""model_id":"\#(model)","model_version":"v1""#
        var kinds: [(String, (String) -> [UInt8]?)] = [
            ("tombstone", { _ in nil }),
            ("invalid UTF-8", { job in Array(#"{"job_id":"\#(job)","status":"success","model_id":""#.utf8) + [0xC0, 0xAF, 0xFF] + Array(#""}"#.utf8) }),
            ("not JSON", text { "oops \($0)" }),
            ("an array", text { #"["\#($0)"]"# }),
            ("a string", text { #""\#($0)""# }),
            ("null", text { _ in "null" }),
            ("duplicate key", text { #"{\#(good),"job_id":"\#($0)","job_id":"x","status":"success"}"# }),
            ("trailing garbage", text { #"{\#(good),"job_id":"\#($0)","status":"success"} x"# }),
            ("trailing comma", text { #"{\#(good),"job_id":"\#($0)","status":"success",}"# }),
            ("65 levels deep", text { #"{\#(good),"job_id":"\#($0)","status":"success","output":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}" }),
            ("status missing", text { #"{\#(good),"job_id":"\#($0)"}"# }),
            ("status unknown", text { #"{\#(good),"job_id":"\#($0)","status":"done"}"# }),
            ("status a number", text { #"{\#(good),"job_id":"\#($0)","status":1}"# }),
            ("status null", text { #"{\#(good),"job_id":"\#($0)","status":null}"# }),
            ("output an array", text { #"{\#(good),"job_id":"\#($0)","status":"success","output":[1]}"# }),
            ("output a string", text { #"{\#(good),"job_id":"\#($0)","status":"success","output":"s3://x"}"# }),
            ("error a boolean", text { #"{\#(good),"job_id":"\#($0)","status":"failure","error":true}"# }),
            ("error a number", text { #"{\#(good),"job_id":"\#($0)","status":"failure","error":7}"# }),
        ]
        for field in ["model_id", "model_version", "job_id"] {
            let fields = ["model_id": "\"\(model)\"", "model_version": "\"v1\""]
            func report(_ value: String?, _ job: String) -> String {
                var all = fields
                all["job_id"] = "\"\(job)\""
                all[field] = value
                return "{" + all.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + #","status":"success"}"#
            }
            kinds += [
                ("\(field) missing", text { report(nil, $0) }),
                ("\(field) a number", text { report("42", $0) }),
                ("\(field) null", text { report("null", $0) }),
                ("\(field) empty", text { report(#""""#, $0) }),
                ("\(field) 256 characters", text { report("\"" + String(repeating: "m", count: 256) + "\"", $0) }),
                ("\(field) a control character", text { report(#""a\u0001b""#, $0) }),
            ]
        }
        return kinds
    }

    /// Costly ones (a 1 MiB + 1 value, 100,000 levels of nesting), sent a few times only.
    static func heavy(model: String) -> [(name: String, value: (String) -> [UInt8]?)] {
        [
            ("1 MiB + 1 bytes", { job in
                let head = Array(#"{"model_id":"\#(model)","model_version":"v1","job_id":"\#(job)","status":"success","output":{"pad":""#.utf8)
                let tail = Array(#""}}"#.utf8)
                return head + [UInt8](repeating: 0x61, count: (1 << 20) + 1 - head.count - tail.count) + tail
            }),
            ("100,000 levels deep", { _ in Array(String(repeating: "[", count: 100_000).utf8) + Array(String(repeating: "]", count: 100_000).utf8) }),
        ]
    }

    /// `count` bad reports on `topic`, cycling through every kind; the heavy ones every `heavyEvery`.
    static func messages(count: Int, topic: String, model: String, heavyEvery: Int = 250) -> [OutgoingMessage] {
        let light = kinds(model: model), heavy = heavy(model: model)
        return (0..<count).map { i in
            let job = "bad-\(UUID().uuidString.prefix(8))-\(i)"
            let kind = i % heavyEvery == heavyEvery - 1 ? heavy[(i / heavyEvery) % heavy.count] : light[i % light.count]
            return OutgoingMessage(topic: topic, key: Array(job.utf8), value: kind.value(job),
                                   headers: [KafkaHeader("poison-kind", kind.name)])
        }
    }
}
