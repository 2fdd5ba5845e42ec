import CascadeDomain
import Foundation

/// The issue asked which JSON decoding the hot path should use: Foundation's `JSONDecoder`,
/// `JSONSerialization`, or a small hand-written parser (`JSONParser`, what Cascade uses). Each
/// decodes the same report bytes into something the validation could read (the four string
/// fields, and `output` or `error` as arbitrary JSON values), in one thread, no I/O.
enum JSONComparison {
    struct Result {
        let parserNs: Double
        let serializationNs: Double
        let decoderNs: Double
    }

    static func run(reports: [[UInt8]], rounds: Int = 3) -> Result {
        let datas = reports.map { Data($0) }
        func best(_ body: () -> Int) -> Double {
            var fastest = Double.infinity
            for _ in 0..<rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                let checked = body()
                let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(reports.count)
                precondition(checked == reports.count, "a decoder lost reports: \(checked) of \(reports.count)")
                fastest = min(fastest, ns)
            }
            return fastest
        }
        let parser = best {
            reports.reduce(0) { n, bytes in
                guard let value = try? JSONParser.parse(bytes), value["job_id"]?.stringValue != nil,
                      value["status"]?.stringValue != nil, value["output"] != nil || value["error"] != nil else { return n }
                return n + 1
            }
        }
        let serialization = best {
            datas.reduce(0) { n, data in
                guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                      object["job_id"] is String, object["status"] is String,
                      object["output"] != nil || object["error"] != nil else { return n }
                return n + 1
            }
        }
        let decoder = JSONDecoder()
        let decoding = best {
            datas.reduce(0) { n, data in
                guard let report = try? decoder.decode(DecodableReport.self, from: data),
                      report.output != nil || report.error != nil else { return n }
                return n + 1
            }
        }
        return Result(parserNs: parser, serializationNs: serialization, decoderNs: decoding)
    }

    private struct DecodableReport: Decodable {
        let model_id: String
        let model_version: String
        let job_id: String
        let status: String
        let output: AnyJSON?
        let error: AnyJSON?
    }

    /// What `Codable` needs to hold an arbitrary `output`.
    private indirect enum AnyJSON: Decodable {
        case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null } else if let b = try? container.decode(Bool.self) { self = .bool(b) }
            else if let n = try? container.decode(Double.self) { self = .number(n) }
            else if let s = try? container.decode(String.self) { self = .string(s) }
            else if let a = try? container.decode([AnyJSON].self) { self = .array(a) }
            else { self = .object(try container.decode([String: AnyJSON].self)) }
        }
    }
}
