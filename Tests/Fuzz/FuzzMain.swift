#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// libFuzzer entry points for the pure parsers (scripts/fuzz.sh, `make fuzz`). Built only with
// `CASCADE_FUZZ=1 swift build --sanitize=fuzzer --sanitize=address`: libFuzzer supplies `main`,
// and Package.swift adds this target only under that variable, so `make build` / `make test`
// never compile it.
//
// One executable for every target, chosen by CASCADE_FUZZ_TARGET, rather than one per target:
// each sanitized build of CascadeDomain and HTTP costs minutes on a shared 2-core machine, and
// one build serves them all. Coverage counters cover the whole binary, but only the chosen
// target's code runs, so `cov:` still measures that target. A new target is one line below,
// plus a seed directory Tests/Fuzz/corpus/<name>/.
let fuzzTargets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "json": fuzzJSON,
    "report": fuzzReport,
    "outbox": fuzzOutbox,
    "http": fuzzHTTP,
    "jwt": fuzzJWT,
]

/// Read once (a global is initialised once, atomically); CASCADE_FUZZ_TARGET=list prints the names.
let selectedTarget: @Sendable (UnsafeRawBufferPointer) -> Void = {
    let name = getenv("CASCADE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if name == "list" {
        for name in fuzzTargets.keys.sorted() { print(name) }
        exit(0)
    }
    guard let target = fuzzTargets[name] else {
        let message = "CASCADE_FUZZ_TARGET must be one of: \(fuzzTargets.keys.sorted().joined(separator: ", ")) (got '\(name)')\n"
        _ = write(2, message, message.utf8.count)  // fd 2: Glibc's `stderr` is a shared mutable global to Swift 6
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = selectedTarget  // an unknown name fails before libFuzzer reads the corpus
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    selectedTarget(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}

/// An invariant of the code under test. A broken one traps, and libFuzzer saves the input.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// For quoting inputs in a broken invariant's message.
func show(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
}
