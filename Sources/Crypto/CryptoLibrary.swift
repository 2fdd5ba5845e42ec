import CLibCrypto

/// The libcrypto this process loaded.
public enum CryptoLibrary {
    /// e.g. "OpenSSL 3.0.19 27 Jan 2026".
    public static var versionString: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }
}
