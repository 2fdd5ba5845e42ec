/// The raw pieces of a consumed report, before validation.
public struct RawReport: Sendable {
    public let key: [UInt8]?
    /// nil for a tombstone (a null value).
    public let value: [UInt8]?
    /// Header name and value; a null header value is nil.
    public let headers: [(name: String, value: [UInt8]?)]
    public let source: ReportSource

    public init(key: [UInt8]?, value: [UInt8]?, headers: [(name: String, value: [UInt8]?)], source: ReportSource) {
        self.key = key
        self.value = value
        self.headers = headers
        self.source = source
    }

    public func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name }?.value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// Why a report is refused before it touches anything (HTTP 400).
public struct ReportRejection: Error, Sendable, Equatable {
    /// A small fixed set of classes, for counting dead letters by reason (a metric label):
    /// the message itself quotes input and is unbounded.
    public enum Kind: String, Sendable, CaseIterable {
        /// Over `--max-report-bytes`.
        case tooLarge = "too_large"
        /// Not a JSON object at all: a tombstone, invalid JSON, another JSON type.
        case malformed
        /// A JSON object with a missing or invalid field.
        case invalidField = "invalid_field"
        /// The message key is not the job id, under `--require-key-match`.
        case keyMismatch = "key_mismatch"
        /// Valid, but PostgreSQL refused to store it.
        case refusedByDatabase = "refused_by_database"
    }

    public let kind: Kind
    public let message: String
    /// Whatever ids could be read, so the 400 result record can name the job.
    public let jobId: String?
    public let modelId: String?
    public let modelVersion: String?
    public let requestId: String?

    public init(_ kind: Kind, _ message: String, jobId: String? = nil, modelId: String? = nil, modelVersion: String? = nil,
                requestId: String? = nil) {
        self.kind = kind
        self.message = message
        self.jobId = jobId
        self.modelId = modelId
        self.modelVersion = modelVersion
        self.requestId = requestId
    }
}

public struct ReportLimits: Sendable, Equatable {
    public var maximumBytes: Int
    public var maximumIdLength: Int
    /// Refuse a report whose message key is not its `job_id` (`--require-key-match`). Off by
    /// default: the value's `job_id` rules, and how reports are keyed is the producer's choice.
    public var requireKeyMatch: Bool
    public static let defaults = ReportLimits(maximumBytes: 1 << 20, maximumIdLength: 255)
    public init(maximumBytes: Int, maximumIdLength: Int, requireKeyMatch: Bool = false) {
        self.maximumBytes = maximumBytes
        self.maximumIdLength = maximumIdLength
        self.requireKeyMatch = requireKeyMatch
    }
}

public enum ReportValidation {
    /// Decodes and validates one report. Every rule gives a message a person can act on.
    public static func validate(_ raw: RawReport, limits: ReportLimits = .defaults) -> Result<CompletionReport, ReportRejection> {
        let requestId = raw.header("request-id")
        let keyId = raw.key.flatMap { String(validating: $0, as: UTF8.self) }.flatMap {
            idProblem($0, limits: limits) == nil ? $0 : nil
        }
        // A report whose value gives no usable job id is still answered under its key's.
        func reject(_ kind: ReportRejection.Kind, _ message: String, jobId: String? = nil,
                    modelId: String? = nil, modelVersion: String? = nil) -> Result<CompletionReport, ReportRejection> {
            .failure(ReportRejection(kind, message, jobId: jobId ?? keyId, modelId: modelId, modelVersion: modelVersion,
                                     requestId: requestId))
        }

        guard let value = raw.value else {
            return reject(.malformed, "report has a null value (a tombstone); a report is a JSON object")
        }
        guard value.count <= limits.maximumBytes else {
            return reject(.tooLarge, "report is \(value.count) bytes, over the \(limits.maximumBytes)-byte limit")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(value)
        } catch {
            return reject(.malformed, "report is not valid JSON: \(error)")
        }
        guard case .object = document else {
            return reject(.malformed, "report must be a JSON object, got \(kind(of: document))")
        }

        // Ids first: a report whose job id is usable can be answered even when the rest is bad.
        // Locals, not a dictionary of fields: its inserts and lookups were ~4,000 instructions
        // of a report (callgrind).
        var idErrors: [String] = []
        func id(_ field: String) -> String? {
            switch document[field] {
            case nil: idErrors.append("\(field) is missing")
            case .string(let s)?:
                if let problem = idProblem(s, limits: limits) { idErrors.append("\(field) \(problem)") } else { return s }
            case let other?: idErrors.append("\(field) must be a string, got \(kind(of: other))")
            }
            return nil
        }
        let jobId = id("job_id"), modelId = id("model_id"), modelVersion = id("model_version")
        if let first = idErrors.first {
            return reject(.invalidField, first, jobId: jobId, modelId: modelId, modelVersion: modelVersion)
        }
        // Bytes, as keyDiffers compares and as Kafka partitions: "e\u{301}" is not "\u{E9}" here,
        // though String's == would say so (found by fuzzing).
        if limits.requireKeyMatch, let jobId, keyDiffers(raw, from: jobId) {
            // Fleets that rely on per-job ordering ask for this: one job's reports share a partition.
            return reject(.keyMismatch, "message key must equal job_id \"\(jobId)\"", jobId: jobId, modelId: modelId, modelVersion: modelVersion)
        }

        let status: CompletionStatus
        switch document["status"] {
        case .string(let s)?:
            guard let parsed = CompletionStatus(rawValue: s) else {
                return reject(.invalidField, "status must be \"success\" or \"failure\", got \"\(DeadLetter.clipped(s, to: 64))\"", jobId: jobId, modelId: modelId, modelVersion: modelVersion)
            }
            status = parsed
        case nil:
            return reject(.invalidField, "status is missing; it must be \"success\" or \"failure\"", jobId: jobId, modelId: modelId, modelVersion: modelVersion)
        case let other?:
            return reject(.invalidField, "status must be a string, got \(kind(of: other))", jobId: jobId, modelId: modelId, modelVersion: modelVersion)
        }

        /// What is wrong with the field, if anything; an object is stored in `value` (absent and
        /// null mean the same: nothing to store).
        func object(_ field: String, into value: inout JSONValue?) -> String? {
            switch document[field] {
            case nil, .null?: return nil
            case let object? where object.isObject: value = object; return nil
            case let other?: return "\(field) must be an object when present, got \(kind(of: other))"
            }
        }
        var output: JSONValue?, error: JSONValue?
        if let problem = object("output", into: &output) ?? object("error", into: &error) {
            return reject(.invalidField, problem, jobId: jobId, modelId: modelId, modelVersion: modelVersion)
        }

        return .success(CompletionReport(
            modelId: modelId!, modelVersion: modelVersion!, jobId: jobId!, status: status,
            output: output, error: error, requestId: requestId,
            authorization: raw.header("authorization"), source: raw.source))
    }

    /// Whether the message key, when there is one, differs from the report's `job_id`. The
    /// report is applied all the same (unless `requireKeyMatch`); the service counts these.
    public static func keyDiffers(_ raw: RawReport, from jobId: String) -> Bool {
        guard let key = raw.key else { return false }
        var id = jobId
        return !id.withUTF8 { key.elementsEqual($0) }
    }

    /// nil when the id is acceptable, else what is wrong with it.
    static func idProblem(_ id: String, limits: ReportLimits) -> String? {
        if id.isEmpty { return "is empty" }
        // A character is at least one byte: only an id with more bytes than the limit needs its
        // characters counted (String.count walks grapheme clusters).
        if id.utf8.count > limits.maximumIdLength, case let length = id.count, length > limits.maximumIdLength {
            return "is \(length) characters, over the limit of \(limits.maximumIdLength)"
        }
        // Printable ASCII (the common case) needs no Unicode property lookups.
        let printableASCII = id.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if !printableASCII, id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "contains control characters"
        }
        return nil
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
