/// Runs `body` over the collection's bytes without a copy when they are already contiguous
/// (`[UInt8]`, `Data`, a native `String.UTF8View`), and over a copy otherwise.
///
/// The pointer is never nil: OpenSSL treats a NULL buffer as an error in some calls (an
/// empty HMAC key, for one), even with a length of zero.
@inline(__always)
func withBytes<R>(of bytes: some Collection<UInt8>, _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
    if let result = bytes.withContiguousStorageIfAvailable({ call(body, $0) }) {
        return result
    }
    return Array(bytes).withUnsafeBufferPointer { call(body, $0) }
}

@inline(__always)
private func call<R>(_ body: (UnsafePointer<UInt8>, Int) -> R, _ buffer: UnsafeBufferPointer<UInt8>) -> R {
    if let base = buffer.baseAddress { return body(base, buffer.count) }
    var empty: UInt8 = 0
    return body(&empty, 0)
}
