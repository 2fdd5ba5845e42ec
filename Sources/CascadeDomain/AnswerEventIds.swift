import Foundation

/// What a report message is answered with; each has its own `event-id`.
public enum AnswerKind: String, Sendable {
    case result
    case deadLetter = "dead-letter"
}

extension ReportSource {
    /// Cascade's namespace for name-based event ids (RFC 9562 version 5).
    public static let eventIdNamespace = UUID(uuidString: "5d0c8f5e-2b7a-4f0e-9a51-7c3e1a9b6d42")!

    /// The `event-id` of an answer to the report at this topic, partition and offset:
    /// UUIDv5(namespace, "<kind>:<topic>/<partition>/<offset>"). Every answer to one report
    /// message carries the same id, whether the relay re-sends it or a crash makes Cascade
    /// answer the message again, so consumers deduplicate answers on it.
    public func eventId(_ kind: AnswerKind) -> UUID {
        NameBasedUUID.make(namespace: Self.eventIdNamespace) { name in
            name.append(contentsOf: kind.rawValue.utf8)
            name.append(UInt8(ascii: ":"))
            name.append(contentsOf: topic.utf8)
            name.append(UInt8(ascii: "/"))
            name.append(contentsOf: String(partition).utf8)
            name.append(UInt8(ascii: "/"))
            name.append(contentsOf: String(offset).utf8)
        }
    }
}
