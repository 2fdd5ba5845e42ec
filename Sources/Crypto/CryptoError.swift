import CLibCrypto

/// A key OpenSSL would not build, with OpenSSL's own reason where it gave one.
///
/// Verification never throws: a signature that fails for any reason is simply not valid, and
/// a caller treats a malformed token and a forged one alike.
public struct CryptoError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    /// `message` followed by the oldest error on this thread's OpenSSL queue, which is the
    /// cause (later entries are the callers that passed it up). Empties the queue, so the
    /// next call on this thread starts clean.
    static func openSSL(_ message: String) -> CryptoError {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return CryptoError(message) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return CryptoError("\(message): \(reason)")
    }

    public var description: String { message }
}
