import CascadeService
import XCTest

/// The token cache's store: bounded, least recently used out first.
final class LRUCacheTests: XCTestCase {
    func testTheLeastRecentlyUsedEntryGoesFirstWhenFull() {
        var cache = LRUCache<String, Int>(capacity: 3)
        cache.set(1, for: "a")
        cache.set(2, for: "b")
        cache.set(3, for: "c")
        XCTAssertEqual(cache.value(for: "a"), 1)  // a is now the most recent; b the least
        cache.set(4, for: "d")
        XCTAssertNil(cache.value(for: "b"))
        XCTAssertEqual([cache.value(for: "a"), cache.value(for: "c"), cache.value(for: "d")], [1, 3, 4])
        XCTAssertEqual(cache.count, 3)
    }

    func testUpdatingAnEntryRefreshesItAndRemovalFreesItsPlace() {
        var cache = LRUCache<Int, String>(capacity: 2)
        cache.set("one", for: 1)
        cache.set("two", for: 2)
        cache.set("ONE", for: 1)  // 1 is now the most recent
        cache.set("three", for: 3)
        XCTAssertNil(cache.value(for: 2))
        XCTAssertEqual(cache.value(for: 1), "ONE")
        cache.removeValue(for: 1)
        cache.set("four", for: 4)
        XCTAssertEqual([cache.value(for: 3), cache.value(for: 4)], ["three", "four"])
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
        XCTAssertNil(cache.value(for: 3))
    }

    /// Against a plain model of the same rules, over a long random sequence of operations.
    func testAgreesWithASimpleModelOverRandomOperations() {
        var cache = LRUCache<Int, Int>(capacity: 8)
        var model: [(key: Int, value: Int)] = []  // most recent last
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let key = Int.random(in: 0..<20, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                cache.set(step, for: key)
                model.removeAll { $0.key == key }
                model.append((key, step))
                if model.count > 8 { model.removeFirst() }
            case 1:
                let expected = model.first { $0.key == key }?.value
                XCTAssertEqual(cache.value(for: key), expected, "step \(step)")
                if let index = model.firstIndex(where: { $0.key == key }) { model.append(model.remove(at: index)) }
            default:
                cache.removeValue(for: key)
                model.removeAll { $0.key == key }
            }
            XCTAssertEqual(cache.count, model.count, "step \(step)")
        }
    }
}
