/// A bounded map that forgets the least recently used entry when full: a doubly linked list
/// threaded through arrays (no per-entry allocation), plus a dictionary from key to slot.
/// Not thread-safe; its owner locks around it.
package struct LRUCache<Key: Hashable, Value> {
    private struct Slot {
        var key: Key
        var value: Value
        var newer: Int  // towards the most recently used; -1 at the head
        var older: Int  // towards the least recently used; -1 at the tail
    }

    package let capacity: Int
    private var slots: [Slot] = []
    private var index: [Key: Int] = [:]
    private var newest = -1
    private var oldest = -1

    package init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    package var count: Int { index.count }

    /// The value, which becomes the most recently used.
    package mutating func value(for key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        moveToFront(slot)
        return slots[slot].value
    }

    package mutating func set(_ value: Value, for key: Key) {
        if let slot = index[key] {
            slots[slot].value = value
            moveToFront(slot)
            return
        }
        let slot: Int
        if slots.count < capacity {
            slot = slots.count
            slots.append(Slot(key: key, value: value, newer: -1, older: -1))
        } else {
            slot = oldest
            unlink(slot)
            index[slots[slot].key] = nil
            slots[slot] = Slot(key: key, value: value, newer: -1, older: -1)
        }
        index[key] = slot
        linkAtFront(slot)
    }

    package mutating func removeValue(for key: Key) {
        guard let slot = index.removeValue(forKey: key) else { return }
        unlink(slot)
        // Keep the arrays dense: move the last slot into the freed one.
        let last = slots.count - 1
        if slot != last {
            let moved = slots[last]
            slots[slot] = moved
            index[moved.key] = slot
            if moved.newer >= 0 { slots[moved.newer].older = slot } else { newest = slot }
            if moved.older >= 0 { slots[moved.older].newer = slot } else { oldest = slot }
        }
        slots.removeLast()
    }

    package mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        index.removeAll(keepingCapacity: true)
        newest = -1
        oldest = -1
    }

    private mutating func moveToFront(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAtFront(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let newer = slots[slot].newer, older = slots[slot].older
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        slots[slot].newer = -1
        slots[slot].older = -1
    }

    private mutating func linkAtFront(_ slot: Int) {
        slots[slot].older = newest
        slots[slot].newer = -1
        if newest >= 0 { slots[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
