import Synchronization

/// Metrics of one name told apart by labels (e.g. messages consumed per topic). Each distinct
/// tuple of label values gets one child, made on first use and kept for the process's life.
public final class Family<Child: AnyObject & Sendable>: Sendable {
    /// The label names, in the order `labels(_:)` takes their values.
    public let labelNames: [String]
    private let makeChild: @Sendable () -> Child
    private let children = Mutex<[[String]: Child]>([:])

    init(labelNames: [String], makeChild: @escaping @Sendable () -> Child) {
        self.labelNames = labelNames
        self.makeChild = makeChild
    }

    /// The child for these label values, one per label name, in order. Hot paths should keep
    /// the child rather than call this per update: the lookup takes a lock and builds a key.
    public func labels(_ values: String...) -> Child { labels(values) }

    /// The child for these label values, one per label name, in order.
    public func labels(_ values: [String]) -> Child {
        precondition(values.count == labelNames.count,
                     "labels \(labelNames) take \(labelNames.count) values, got \(values)")
        return children.withLock { children in
            if let child = children[values] { return child }
            let child = makeChild()
            children[values] = child
            return child
        }
    }

    /// Each child with its labels, sorted by label values so that scrapes are stable.
    func sortedChildren() -> [(labels: [Label], child: Child)] {
        let all = children.withLock { Array($0) }
        return all.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { values, child in
            (zip(labelNames, values).map { Label($0, $1) }, child)
        }
    }
}
