/// A message to publish, written to the outbox in the same transaction as the effects it
/// announces, and sent by the relay after that transaction commits.
public struct OutboxMessage: Sendable, Equatable {
    public let topic: String
    public let key: [UInt8]?
    /// nil only for the dead letter of a tombstone, which keeps the original's null value.
    public let value: [UInt8]?
    public let headers: [OutboxHeader]

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [OutboxHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// What the message weighs against a broker's size limits, before the record framing.
    public var size: Int {
        (key?.count ?? 0) + (value?.count ?? 0) + headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
    }

    public func header(_ name: String) -> [UInt8]? { headers.last { $0.name == name }?.value ?? nil }
}

public struct OutboxHeader: Sendable, Equatable {
    public let name: String
    public let value: [UInt8]?
    public init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }
    public init(_ name: String, _ value: String) { self.init(name, Array(value.utf8)) }
}
