import CLibPQ

/// The libpq this process loaded.
public enum PostgresLibrary {
    /// e.g. "15.18" (libpq encodes it as major * 10000 + minor).
    public static var versionString: String {
        let number = Int(PQlibVersion())
        return "\(number / 10000).\(number % 10000)"
    }
}
