import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Version 7 UUIDs (RFC 9562): a millisecond timestamp, then 74 random bits from the kernel's
/// CSPRNG, read 256 ids' worth at a time. Time order matters for new job ids: consecutive ones
/// land on the right edge of the jobs primary key instead of a random page. Foundation's
/// `UUID()` opened, read and closed /dev/urandom for every id, which showed in a drain's profile
/// at two ids per report. One instance per thread: it is not shared.
public final class TimeOrderedUUIDs {
    private var pool = [UInt8](repeating: 0, count: 4096)
    private var next = 4096
    private let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    deinit { if urandom >= 0 { close(urandom) } }

    public init() {}

    public func make(at date: Date = Date()) -> UUID {
        if next + 16 > pool.count { refill() }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: pool[next..<next + 16]) }
        next += 16
        let ms = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        raw.0 = UInt8(truncatingIfNeeded: ms >> 40); raw.1 = UInt8(truncatingIfNeeded: ms >> 32)
        raw.2 = UInt8(truncatingIfNeeded: ms >> 24); raw.3 = UInt8(truncatingIfNeeded: ms >> 16)
        raw.4 = UInt8(truncatingIfNeeded: ms >> 8); raw.5 = UInt8(truncatingIfNeeded: ms)
        raw.6 = raw.6 & 0x0F | 0x70  // version 7
        raw.8 = raw.8 & 0x3F | 0x80  // RFC 9562 variant
        return UUID(uuid: raw)
    }

    private func refill() {
        var filled = 0
        if urandom >= 0 {
            pool.withUnsafeMutableBytes { buffer in
                while filled < buffer.count {
                    let n = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                    if n > 0 { filled += n } else if n == 0 || errno != EINTR { break }
                }
            }
        }
        // Should the device fail, Foundation's ids are as random, only slower.
        if filled < pool.count {
            for i in stride(from: 0, to: pool.count, by: 16) {
                withUnsafeBytes(of: UUID().uuid) { pool.replaceSubrange(i..<i + 16, with: $0) }
            }
        }
        next = 0
    }
}
