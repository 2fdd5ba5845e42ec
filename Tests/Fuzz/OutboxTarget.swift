import CascadeDomain

/// OutboxFraming.decode over any bytes (an outbox row read back from PostgreSQL). What decodes
/// must re-encode to exactly the bytes it came from (the framing has one spelling per list of
/// messages: lengths are exact, -1 is the only null), and decode again to the same messages.
func fuzzOutbox(_ data: UnsafeRawBufferPointer) {
    let input = Array(data)
    let messages: [OutboxMessage]
    do {
        messages = try OutboxFraming.decode(input)
    } catch {
        return
    }
    let encoded = OutboxFraming.encode(messages)
    require(encoded == input, "re-encoding differs from the row: \(encoded.count) vs \(input.count) bytes")
    do {
        let again = try OutboxFraming.decode(encoded)
        require(again == messages, "decode(encode(messages)) != messages")
    } catch {
        fatalError("invariant broken: an encoded row does not decode: \(error)")
    }
    for message in messages {
        require(message.size >= 0, "negative size")
        _ = message.header("event-id")
    }
}
