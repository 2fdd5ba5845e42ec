/// The dead-letter copy of a report Cascade refused (a 400): the original key, value and
/// headers, plus why and where it came from.
public enum DeadLetter {
    /// A reason longer than this is cut: it travels in a header, and a reason can quote input.
    public static let reasonLimit = 1024

    /// The dead letter, and the original when the letter had to be cut to fit `sizeLimit` (the
    /// largest report Cascade accepts, so every topic that takes reports can take it). The
    /// cut letter carries `dlq-original-size`; the original is kept durably (parked). Key and
    /// headers are never cut: if they alone pass the limit the value is empty, and the
    /// envelope Cascade allows beyond the limit (ServiceSettings.envelopeBytes) absorbs them.
    public static func message(_ raw: RawReport, reason: String, topic: String, sizeLimit: Int,
                               fingerprint: CredentialFingerprint = { _ in "unknown" })
        -> (letter: OutboxMessage, original: ParkedMessage?) {
        var headers = raw.headers.map { OutboxHeader($0.name, redacted($0, fingerprint: fingerprint)) }
        headers.append(OutboxHeader("event-id", raw.source.eventId(.deadLetter).lowercasedBytes))
        headers.append(OutboxHeader("dlq-reason", clipped(reason, to: reasonLimit)))
        headers.append(OutboxHeader("dlq-source-topic", raw.source.topic))
        headers.append(OutboxHeader("dlq-source-partition", String(raw.source.partition)))
        headers.append(OutboxHeader("dlq-source-offset", String(raw.source.offset)))
        let whole = OutboxMessage(topic: topic, key: raw.key, value: raw.value, headers: headers)
        guard let value = raw.value, whole.size > sizeLimit else { return (whole, nil) }

        let cutHeaders = headers + [OutboxHeader("dlq-original-size", String(value.count))]
        let envelope = OutboxMessage(topic: topic, key: raw.key, value: [], headers: cutHeaders).size
        let room = max(0, sizeLimit - envelope)
        let cut = OutboxMessage(topic: topic, key: raw.key, value: Array(value.prefix(room)), headers: cutHeaders)
        let why = "dead letter cut from \(value.count) to \(room) value bytes to fit the \(sizeLimit)-byte limit; this is the original"
        return (cut, ParkedMessage(message: whole, reason: why))
    }

    /// The first 8 hex digits of a credential's SHA-256: enough to tell which token a caller
    /// sent (they can hash theirs), too few to be of use to anyone reading dead letters.
    public typealias CredentialFingerprint = @Sendable ([UInt8]) -> String

    /// Anyone who can read dead letters can read their headers, so an `Authorization` header
    /// is replaced: `Bearer <redacted sha256:1a2b3c4d>` (the scheme kept when it is a plain word).
    static func redacted(_ header: (name: String, value: [UInt8]?), fingerprint: CredentialFingerprint) -> [UInt8]? {
        guard header.name.lowercased() == "authorization", let value = header.value else { return header.value }
        let space = value.firstIndex(of: 0x20)
        let scheme = space.map { Array(value[..<$0]) } ?? []
        let isWord = !scheme.isEmpty && scheme.count <= 16 && scheme.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7a }
        let credential = isWord ? Array(value[(space! + 1)...]) : value
        return Array(((isWord ? String(decoding: scheme, as: UTF8.self) + " " : "") + "<redacted sha256:\(fingerprint(credential))>").utf8)
    }

    /// `text` itself when short enough, else its first characters and an ellipsis.
    public static func clipped(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var out = ""
        for character in text {
            if out.utf8.count + character.utf8.count > limit - 3 { break }
            out.append(character)
        }
        return out + "…"
    }
}

/// A message that will not be published as it is: a broker refused it for good, or it is the
/// original of a dead letter that was cut to fit. Kept in `parked_messages` until an operator
/// re-sends it (`cascade parked resend`).
public struct ParkedMessage: Sendable, Equatable {
    public let message: OutboxMessage
    public let reason: String

    public init(message: OutboxMessage, reason: String) {
        self.message = message
        self.reason = reason
    }
}
