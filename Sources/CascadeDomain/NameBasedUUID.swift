import Foundation

/// Version 5 UUIDs (RFC 9562 §5.5): the SHA-1 of a namespace id and a name. The same name
/// always gives the same id, so an answer's `event-id` can be derived from the report it
/// answers, and a client can compute it too (see docs/CONTRACTS.md).
public enum NameBasedUUID {
    public static func make(namespace: UUID, name: String) -> UUID {
        make(namespace: namespace) { $0.append(contentsOf: name.utf8) }
    }

    /// The same, with the name's bytes written straight after the namespace (no String).
    public static func make(namespace: UUID, writingName: (inout [UInt8]) -> Void) -> UUID {
        var input: [UInt8] = []
        input.reserveCapacity(96)
        withUnsafeBytes(of: namespace.uuid) { input.append(contentsOf: $0) }
        writingName(&input)
        let h = SHA1.hash(input)
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { out in
            out.storeBytes(of: h.0.bigEndian, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: h.1.bigEndian, toByteOffset: 4, as: UInt32.self)
            out.storeBytes(of: h.2.bigEndian, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: h.3.bigEndian, toByteOffset: 12, as: UInt32.self)
        }
        raw.6 = raw.6 & 0x0F | 0x50  // version 5
        raw.8 = raw.8 & 0x3F | 0x80  // RFC 9562 variant
        return UUID(uuid: raw)
    }
}

/// SHA-1 (FIPS 180-4), only as RFC 9562 uses it for name-based ids: not for anything that
/// needs collision resistance against an adversary. Blocks are read in place and the schedule
/// lives on the stack: the first version copied and padded the message into a new array and
/// kept the schedule in another, about 5,500 instructions per event id (callgrind).
enum SHA1 {
    static func hash(_ message: [UInt8]) -> (UInt32, UInt32, UInt32, UInt32, UInt32) {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            message.withUnsafeBufferPointer { bytes in
                let whole = bytes.count / 64 * 64
                for block in stride(from: 0, to: whole, by: 64) {
                    compress(&h, UnsafeBufferPointer(rebasing: bytes[block..<block + 64]), w)
                }
                // The tail, 0x80, zeros, and the length in bits: one block, or two when the
                // tail leaves fewer than 9 bytes.
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { last in
                    let tail = bytes.count - whole
                    let length = tail < 56 ? 64 : 128
                    last.initialize(repeating: 0)
                    for i in 0..<tail { last[i] = bytes[whole + i] }
                    last[tail] = 0x80
                    let bits = UInt64(bytes.count) &* 8
                    for i in 0..<8 { last[length - 1 - i] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i))) }
                    for block in stride(from: 0, to: length, by: 64) {
                        compress(&h, UnsafeBufferPointer(rebasing: last[block..<block + 64]), w)
                    }
                }
            }
        }
        return h
    }

    private static func compress(_ h: inout (UInt32, UInt32, UInt32, UInt32, UInt32), _ block: UnsafeBufferPointer<UInt8>,
                                 _ w: UnsafeMutableBufferPointer<UInt32>) {
        for i in 0..<16 {
            let j = i * 4
            w[i] = UInt32(block[j]) << 24 | UInt32(block[j + 1]) << 16 | UInt32(block[j + 2]) << 8 | UInt32(block[j + 3])
        }
        for i in 16..<80 { w[i] = rotate(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
        var (a, b, c, d, e) = h
        // The four rounds as four loops: one loop choosing the round's function per step by a
        // switch made a report's event ids 7,172 instructions instead of 5,225 (callgrind).
        @inline(__always) func step(_ f: UInt32, _ k: UInt32, _ wi: UInt32) {
            let t = rotate(a, 5) &+ f &+ e &+ k &+ wi
            (e, d, c, b, a) = (d, c, rotate(b, 30), a, t)
        }
        for i in 0..<20 { step((b & c) | (~b & d), 0x5A82_7999, w[i]) }
        for i in 20..<40 { step(b ^ c ^ d, 0x6ED9_EBA1, w[i]) }
        for i in 40..<60 { step((b & c) | (b & d) | (c & d), 0x8F1B_BCDC, w[i]) }
        for i in 60..<80 { step(b ^ c ^ d, 0xCA62_C1D6, w[i]) }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }

    private static func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
}
