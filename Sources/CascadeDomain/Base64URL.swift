/// Base64url without padding, the encoding of every JWS segment (RFC 7515 §2, RFC 4648 §5).
///
/// Decoding is strict: one token has exactly one accepted spelling. A lenient decoder (padding,
/// '+' and '/', whitespace, or stray low bits in the last character) lets several strings mean
/// the same bytes, which defeats any cache or replay check keyed on the token text.
public enum Base64URL {
    /// The decoded bytes, or nil if `text` is not canonical unpadded base64url.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? { decode(utf8: text.utf8) }

    /// The decoded bytes of base64url text given as its UTF-8 (ASCII) bytes.
    public static func decode(_ bytes: some Collection<UInt8>) -> [UInt8]? { decode(utf8: bytes) }

    private static func decode<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) -> [UInt8]? {
        if let decoded = bytes.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return decoded }
        return Array(bytes).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    /// 0...63 for the alphabet, 0xFF for everything else (padding, '+', '/', whitespace, non-ASCII).
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func decode(buffer input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = input.count
        let tail = count % 4
        // One leftover character carries only 6 bits: never a whole byte.
        if tail == 1 { return nil }
        let whole = count - tail
        let outputCount = whole / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        return sextets.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { out, initialized in
                var i = 0, o = 0
                while i < whole {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    let c = table[Int(input[i + 2])], d = table[Int(input[i + 3])]
                    // Any 0xFF has its top bit set; one test per quartet keeps the loop branch-light.
                    if (a | b | c | d) & 0x80 != 0 { valid = false; break }
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4; o += 3
                }
                if valid, tail >= 2 {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    let c = tail == 3 ? table[Int(input[i + 2])] : 0
                    // The bits below the last whole byte must be zero, or "QR" would decode as "QQ" does.
                    let unused = tail == 2 ? b & 0x0F : c & 0x03
                    if (a | b | c) & 0x80 != 0 || unused != 0 {
                        valid = false
                    } else {
                        out[o] = a << 2 | b >> 4
                        if tail == 3 { out[o + 1] = b << 4 | c >> 2 }
                    }
                }
                initialized = valid ? outputCount : 0
            }
            return valid ? output : nil
        }
    }

    /// Unpadded base64url text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            for shift in [18, 12, 6, 0] as [UInt32] { out.append(alphabet[Int(v >> shift & 0x3F)]) }
            i += 3
        }
        switch input.count - i {
        case 1:
            let v = UInt32(input[i]) << 16
            out.append(alphabet[Int(v >> 18 & 0x3F)]); out.append(alphabet[Int(v >> 12 & 0x3F)])
        case 2:
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            for shift in [18, 12, 6] as [UInt32] { out.append(alphabet[Int(v >> shift & 0x3F)]) }
        default: break
        }
        return String(decoding: out, as: UTF8.self)
    }
}
