import CascadeDomain

/// ReportValidation.validate, what BatchProcessor runs on every consumed message.
///
/// Input layout, so that one input drives the whole RawReport: the parts split at NUL bytes are
/// value, key, request-id header, authorization header (absent parts are nil). A JSON value
/// holds no raw NUL, so a seed that is a plain report is its own value. A lone 0xFF value is a
/// tombstone.
///
/// Checked under three limits: the defaults, `requireKeyMatch`, and tight sizes that reach the
/// too-large and too-long branches. Beyond not crashing:
/// - an accepted report says what the value says, within the limits, and echoes its source
///   and headers; a refusal names only ids that pass the id rule;
/// - requireKeyMatch only ever adds a key_mismatch refusal, and what it accepts has a key equal
///   to the job id, byte for byte: the partition is chosen by the key's bytes, and
///   `ReportValidation.keyDiffers` (the service's mismatch count) compares bytes too.
func fuzzReport(_ data: UnsafeRawBufferPointer) {
    let parts = Array(data).split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false).map { Array($0) }
    var headers: [(name: String, value: [UInt8]?)] = []
    if parts.count > 2 { headers.append(("request-id", parts[2])) }
    if parts.count > 3 { headers.append(("Authorization", parts[3])) }
    let raw = RawReport(key: parts.count > 1 ? parts[1] : nil, value: parts[0] == [0xFF] ? nil : parts[0],
                        headers: headers, source: source)

    let defaults = ReportLimits.defaults
    let keyed = ReportLimits(maximumBytes: defaults.maximumBytes, maximumIdLength: defaults.maximumIdLength, requireKeyMatch: true)
    let tight = ReportLimits(maximumBytes: 160, maximumIdLength: 8)
    let lenient = ReportValidation.validate(raw, limits: defaults)
    let strict = ReportValidation.validate(raw, limits: keyed)
    let small = ReportValidation.validate(raw, limits: tight)
    checkOutcome(lenient, raw, defaults)
    checkOutcome(strict, raw, keyed)
    checkOutcome(small, raw, tight)

    switch (strict, lenient) {
    case (.success(let accepted), .success(let report)):
        require(accepted == report, "requireKeyMatch changed the report")
        require(!ReportValidation.keyDiffers(raw, from: accepted.jobId),
                "requireKeyMatch accepted key \(show(raw.key ?? [])) for job_id \(show(Array(accepted.jobId.utf8))), but keyDiffers says they differ")
    case (.success, .failure(let rejection)):
        fatalError("invariant broken: accepted only under requireKeyMatch: \(rejection.message)")
    case (.failure(let rejection), .success):
        require(rejection.kind == .keyMismatch, "requireKeyMatch refused with \(rejection.kind)")
    case (.failure(let refusal), .failure(let rejection)):
        require(refusal == rejection || refusal.kind == .keyMismatch, "requireKeyMatch changed the refusal")
    }
    if case .success(let report) = small, case .success(let full) = lenient {
        require(report == full, "tight limits changed an accepted report")
    }
}

private let source = ReportSource(topic: "completions", partition: 3, offset: 42)

private func checkOutcome(_ outcome: Result<CompletionReport, ReportRejection>, _ raw: RawReport, _ limits: ReportLimits) {
    switch outcome {
    case .success(let report):
        require(report.source == source, "source not echoed")
        for id in [report.jobId, report.modelId, report.modelVersion] {
            require(passesIdRule(id, limits), "accepted an id that breaks the id rule: \(id.debugDescription)")
        }
        guard let value = raw.value else { fatalError("invariant broken: a tombstone was accepted") }
        require(value.count <= limits.maximumBytes, "accepted \(value.count) bytes over \(limits.maximumBytes)")
        guard let document = try? JSONParser.parse(value), document.isObject else {
            fatalError("invariant broken: accepted a value that is not a JSON object")
        }
        require(document["job_id"] == .string(report.jobId) && document["model_id"] == .string(report.modelId)
                && document["model_version"] == .string(report.modelVersion), "ids differ from the document's")
        require(document["status"] == .string(report.status.rawValue), "status differs from the document's")
        require(report.output.map(\.isObject) ?? true, "output is not an object")
        require(report.error.map(\.isObject) ?? true, "error is not an object")
        require(report.output == nil || report.output == document["output"], "output differs from the document's")
        require(report.error == nil || report.error == document["error"], "error differs from the document's")
        require(report.requestId == raw.header("request-id"), "request-id not echoed")
        require(report.authorization == raw.header("authorization"), "authorization not carried")
    case .failure(let rejection):
        for id in [rejection.jobId, rejection.modelId, rejection.modelVersion].compactMap({ $0 }) {
            require(passesIdRule(id, limits), "a refusal names an id that breaks the id rule: \(id.debugDescription)")
        }
        require(rejection.requestId == raw.header("request-id"), "request-id not echoed in a refusal")
        require(!rejection.message.isEmpty, "a refusal without a message")
    }
}

/// The id rule as documented: non-empty, within the length limit in characters, no control
/// characters.
private func passesIdRule(_ id: String, _ limits: ReportLimits) -> Bool {
    !id.isEmpty && id.count <= limits.maximumIdLength
        && !id.unicodeScalars.contains { $0.properties.generalCategory == .control }
}
