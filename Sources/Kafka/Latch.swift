import Dispatch
import Synchronization

/// A value set once and waited for by anyone: a stop request, a fatal failure, a thread's end.
/// The package's one stop-and-signal primitive (here, at the bottom, so the Kafka owners use it
/// too).
package final class Latch<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let opened = DispatchGroup()

    package init() { opened.enter() }

    /// A dispatch group keeps itself alive while entered: one never opened would leak
    /// (found by LeakSanitizer, scripts/sanitize.sh).
    deinit { if !isOpen { opened.leave() } }

    /// Sets the value unless it is set; returns whether this call set it.
    @discardableResult
    package func open(_ newValue: Value) -> Bool {
        let first = value.withLock { current in
            guard current == nil else { return false }
            current = newValue
            return true
        }
        if first { opened.leave() }
        return first
    }

    package var current: Value? { value.withLock { $0 } }
    package var isOpen: Bool { current != nil }

    /// Waits until opened, or `timeout` passes (nil: for ever); returns the value if open.
    @discardableResult
    package func wait(timeout: Duration? = nil) -> Value? {
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let nanos = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            _ = opened.wait(timeout: .now() + .nanoseconds(max(0, nanos)))
        } else {
            opened.wait()
        }
        return current
    }
}

extension Latch where Value == Void {
    @discardableResult
    package func open() -> Bool { open(()) }
}
