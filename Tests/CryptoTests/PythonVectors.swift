import Foundation

/// Keys and signatures made by Python's `cryptography` package when the tests run, so the
/// verifier is checked against an independent signer rather than against itself.
struct PythonVectors: Sendable {
    struct RSA: Sendable { let n, e, message, signature: [UInt8] }
    struct P256: Sendable { let x, y, message, signature, der: [UInt8] }
    struct HMAC: Sendable { let key, message, mac: [UInt8] }

    let rsa: RSA
    /// Only n and e are set.
    let rsa1024: RSA
    let p256: P256
    let hmac: HMAC

    /// Made once per test process: RSA key generation takes a noticeable fraction of a second.
    static let shared: Result<PythonVectors, any Error> = Result { try generate() }

    static func load() throws -> PythonVectors { try shared.get() }

    private static let script = #"""
    import json, os
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def be(i, size=None):
        return i.to_bytes(size or (i.bit_length() + 7) // 8, "big").hex()

    message = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYXNjYWRlIn0"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pub = rsa_key.public_key().public_numbers()
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pub = ec_key.public_key().public_numbers()
    der = ec_key.sign(message, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    mac_key = os.urandom(32)
    mac = hmac.HMAC(mac_key, hashes.SHA256())
    mac.update(message)
    print(json.dumps({
        "rsa": {"n": be(rsa_pub.n), "e": be(rsa_pub.e), "message": message.hex(),
                "signature": rsa_key.sign(message, padding.PKCS1v15(), hashes.SHA256()).hex()},
        "rsa1024": {"n": be(small.n), "e": be(small.e)},
        "p256": {"x": be(ec_pub.x, 32), "y": be(ec_pub.y, 32), "message": message.hex(),
                 "signature": be(r, 32) + be(s, 32), "der": der.hex()},
        "hmac": {"key": mac_key.hex(), "message": message.hex(), "mac": mac.finalize().hex()},
    }))
    """#

    private static func generate() throws -> PythonVectors {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let json = output.fileHandleForReading.readDataToEndOfFile()
        let diagnostics = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw VectorError("python3 with `cryptography` is needed (python3 -m pip install cryptography): \(diagnostics)")
        }
        let groups = try JSONDecoder().decode([String: [String: String]].self, from: json)
        func bytes(_ group: String, _ field: String) throws -> [UInt8] {
            guard let hex = groups[group]?[field], let value = [UInt8](hex: hex) else {
                throw VectorError("the script printed no hex \(group).\(field)")
            }
            return value
        }
        return PythonVectors(
            rsa: RSA(n: try bytes("rsa", "n"), e: try bytes("rsa", "e"),
                     message: try bytes("rsa", "message"), signature: try bytes("rsa", "signature")),
            rsa1024: RSA(n: try bytes("rsa1024", "n"), e: try bytes("rsa1024", "e"), message: [], signature: []),
            p256: P256(x: try bytes("p256", "x"), y: try bytes("p256", "y"), message: try bytes("p256", "message"),
                       signature: try bytes("p256", "signature"), der: try bytes("p256", "der")),
            hmac: HMAC(key: try bytes("hmac", "key"), message: try bytes("hmac", "message"), mac: try bytes("hmac", "mac")))
    }
}

struct VectorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == UInt8 {
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }

    /// A copy with one bit of byte `index` inverted.
    func flippingBit(at index: Int) -> [UInt8] {
        var copy = self
        copy[index] ^= 0x01
        return copy
    }
}
