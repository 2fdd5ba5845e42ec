import CascadeDomain
import Crypto
import Foundation
import Synchronization

/// The platform's bearer tokens, verified (TokenVerification's order) against a JWKS file.
///
/// Handler fleets reuse one token for its lifetime, so a verified token's decision is cached
/// under the token's SHA-256 until its `exp` (plus the leeway): a cached token costs a hash and
/// a lookup instead of an RSA verification. Only decisions with a verified signature are
/// cached; a changed JWKS clears the cache. The JWKS file is re-read when its mtime changes
/// (looked at most once a second), on `reload()` (SIGHUP), and once when a token names a kid it
/// does not hold (at most once a second, so made-up kids cannot make it re-read per report).
public final class JWTAuthorizer: ReportAuthorizer, Sendable {
    public struct Settings: Sendable {
        /// Nil only in the HS256 development mode: no JWKS, no RS256 or ES256.
        public var jwksPath: String?
        public var policy: TokenPolicy
        /// HS256, for development only.
        public var hs256Secret: [UInt8]?
        public var cacheCapacity = 10_000
        /// How often the file is looked at, and the least time between re-reads for unknown
        /// kids: once a second in service; tests shorten it instead of sleeping a second.
        public var recheckInterval: Duration = .seconds(1)

        public init(jwksPath: String?, policy: TokenPolicy, hs256Secret: [UInt8]? = nil) {
            self.jwksPath = jwksPath
            self.policy = policy
            self.hs256Secret = hs256Secret
        }
    }

    /// A verified token: allowed until `expiresAt` (plus the leeway), for the key set of
    /// `generation` only. An entry from an older key set is a miss, so a verification that
    /// raced a re-read can never keep a withdrawn key's token alive.
    private struct Cached {
        let expiresAt: Int64
        let generation: Int
    }

    private struct KeyFile {
        var keys = VerificationKeys.empty
        /// Bumped when the keys change (not when a re-read finds the same set).
        var generation = 0
        var version: FileVersion?
        var lastLook: ContinuousClock.Instant?
        var lastForcedRead: ContinuousClock.Instant?
        var reloadRequested = false
    }

    /// Longer headers are refused before anything else reads them (CompactJWS's 8 KiB limit,
    /// plus the scheme), so a 1 MiB header is never hashed or scanned.
    static let largestHeader = CompactJWS.maximumByteCount + 16

    private let settings: Settings
    private let keyFile = Mutex(KeyFile())
    private let cache: Mutex<LRUCache<TokenDigest, Cached>>
    private let rejections = Mutex<[String: Int]>([:])
    private let clock: @Sendable () -> Int64

    /// Reads the JWKS now: a start with a missing, unreadable or unusable key set is refused.
    public init(settings: Settings, nowSeconds: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws {
        self.settings = settings
        self.clock = nowSeconds
        cache = Mutex(LRUCache(capacity: settings.cacheCapacity))
        guard let path = settings.jwksPath else { return }
        let loaded = try Self.read(path)
        guard !loaded.keys.keys.isEmpty else {
            throw JWKSError("\(path) holds no key Cascade can use (RSA or EC P-256 for signing); skipped: "
                + loaded.keys.skipped.joined(separator: "; "))
        }
        keyFile.withLock { $0.keys = loaded.keys; $0.version = loaded.version }
        Self.logLoad(loaded.keys, path: path)
    }

    /// Rejections so far, by reason (for `cascade_auth_rejections_total`).
    public var rejectionCounts: [String: Int] { rejections.withLock { $0 } }

    /// SIGHUP: the next report re-reads the JWKS.
    public func reload() { keyFile.withLock { $0.reloadRequested = true } }

    public func authorize(_ report: CompletionReport) -> AuthorizationDecision {
        let header = report.authorization
        if let header, header.utf8.count > Self.largestHeader {
            return refuse(.tokenTooLarge(byteCount: header.utf8.count))
        }
        let now = clock()
        refreshKeysIfChanged()
        let digest = header.map { TokenDigest(SHA256.digest($0.utf8)) }
        if let digest, let cached = cache.withLock({ $0.value(for: digest) }),
           cached.generation == keyFile.withLock({ $0.generation }),
           now - max(0, settings.policy.leewaySeconds) <= cached.expiresAt {
            return .allowed
        }
        var (outcome, generation) = verify(header, now: now)
        if case .failure(.unknownKey) = outcome, forceReread() { (outcome, generation) = verify(header, now: now) }
        switch outcome {
        case .success(let grant):
            if let digest { cache.withLock { $0.set(Cached(expiresAt: grant.expiresAt, generation: generation), for: digest) } }
            return .allowed
        case .failure(let rejection):
            return refuse(rejection)
        }
    }

    private func refuse(_ rejection: TokenRejection) -> AuthorizationDecision {
        rejections.withLock { $0[rejection.reason, default: 0] += 1 }
        return rejection.isForbidden ? .forbidden(rejection.message) : .unauthenticated(rejection.message)
    }

    private func verify(_ header: String?, now: Int64) -> (Result<TokenGrant, TokenRejection>, generation: Int) {
        let (keys, generation) = keyFile.withLock { ($0.keys, $0.generation) }
        let secret = settings.hs256Secret
        let outcome = TokenVerification.verify(authorization: header, keys: keys.keys, hs256Configured: secret != nil,
                                               policy: settings.policy, nowSeconds: now) { algorithm, key, input, signature in
            if algorithm == .hs256 { return secret.map { HMACSHA256.isValid(signature, key: $0, message: input) } ?? false }
            return key.map { keys.isValid(algorithm, key: $0, input: input, signature: signature) } ?? false
        }
        return (outcome, generation)
    }

    // MARK: the key file

    /// At most once a second, or at once after SIGHUP: a new version of the file is re-read.
    private func refreshKeysIfChanged() {
        guard let path = settings.jwksPath else { return }
        let now = ContinuousClock.now
        let (due, forced) = keyFile.withLock { file -> (Bool, Bool) in
            let forced = file.reloadRequested
            guard forced || file.lastLook.map({ now - $0 >= settings.recheckInterval }) ?? true else { return (false, false) }
            file.lastLook = now
            file.reloadRequested = false
            return (true, forced)
        }
        guard due, forced || FileVersion(path) != keyFile.withLock({ $0.version }) else { return }
        reread(path)
    }

    /// A token naming a kid we lack: re-read once if the file changed since the last read, at
    /// most once a second, so made-up kids cannot make it re-read or clear the cache per report.
    private func forceReread() -> Bool {
        guard let path = settings.jwksPath else { return false }
        let now = ContinuousClock.now
        let allowed = keyFile.withLock { file -> Bool in
            if let last = file.lastForcedRead, now - last < settings.recheckInterval { return false }
            file.lastForcedRead = now
            return FileVersion(path) != file.version
        }
        return allowed && reread(path)
    }

    /// Installs the file's keys; a new key set bumps the generation (every cached token then
    /// verifies again) and empties the cache. An unreadable or malformed file keeps the old keys
    /// (a half-written file must not lock every caller out), and is not read again until it
    /// changes. True when the keys changed.
    @discardableResult
    private func reread(_ path: String) -> Bool {
        let version = FileVersion(path)
        do {
            let loaded = try Self.read(path)
            let changed = keyFile.withLock { file -> Bool in
                file.version = loaded.version
                guard file.keys.keys != loaded.keys.keys else { return false }
                file.keys = loaded.keys
                file.generation += 1
                return true
            }
            if changed {
                cache.withLock { $0.removeAll() }
                Self.logLoad(loaded.keys, path: path)
            }
            return changed
        } catch {
            keyFile.withLock { $0.version = version }
            Log.warning("JWKS not re-read; keeping the previous keys until the file changes", ["path": path, "error": "\(error)"])
            return false
        }
    }

    private static func read(_ path: String) throws -> (keys: VerificationKeys, version: FileVersion?) {
        let version = FileVersion(path)
        guard let data = FileManager.default.contents(atPath: path) else { throw JWKSError("cannot read \(path)") }
        return (try VerificationKeys(jwks: Array(data)), version)
    }

    private static func logLoad(_ keys: VerificationKeys, path: String) {
        Log.info("JWKS loaded", ["path": path, "keys": keys.keys.map { $0.keyId ?? "(no kid)" }.joined(separator: ","),
                                 "skipped": keys.skipped.joined(separator: "; ")])
    }
}

/// What tells a changed key file: stat(2) through symlinks (a Kubernetes ConfigMap mount swaps
/// a `..data` symlink, so the file's own link never changes), by mtime, inode and size.
struct FileVersion: Equatable, Sendable {
    let seconds: Int, nanoseconds: Int, inode: UInt64, size: Int64

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
    }
}

/// A token's SHA-256 as a cache key: four words hash faster than a 32-byte array.
struct TokenDigest: Hashable, Sendable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ digest: [UInt8]) {
        func word(_ i: Int) -> UInt64 { digest[i * 8..<i * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        words = (word(0), word(1), word(2), word(3))
    }

    static func == (a: TokenDigest, b: TokenDigest) -> Bool { a.words == b.words }
    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
