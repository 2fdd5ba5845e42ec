import CascadeDomain
import CascadeService
import Foundation
import Postgres
import XCTest

final class TimeOrderedUUIDsTests: XCTestCase {
    /// Past several refills of the pool: every id is a well-formed version 7 UUID, none repeats,
    /// even within one millisecond.
    func testIdsAreVersion7AndDistinct() {
        let source = TimeOrderedUUIDs()
        let now = Date()
        let ids = (0..<2_000).map { _ in source.make(at: now) }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids {
            XCTAssertEqual(id.uuid.6 >> 4, 7, "version")
            XCTAssertEqual(id.uuid.8 >> 6, 0b10, "variant")
        }
        XCTAssertNotEqual(TimeOrderedUUIDs().make(at: now), TimeOrderedUUIDs().make(at: now))
    }

    /// The first 48 bits are the Unix time in milliseconds, so ids sort by creation time, as
    /// text too (which is how the jobs primary key compares them).
    func testIdsSortByTheirMillisecond() {
        let source = TimeOrderedUUIDs()
        let start = Date(timeIntervalSince1970: 1_795_000_000.123)
        let ids = (0..<100).map { source.make(at: start.addingTimeInterval(Double($0) * 0.002)) }
        let texts = ids.map(\.lowercasedText)
        XCTAssertEqual(texts, texts.sorted())
        XCTAssertEqual(Set(texts.map { $0.prefix(13) }).count, 100, "one millisecond prefix each")
        let ms = withUnsafeBytes(of: ids[0].uuid) { $0.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        XCTAssertEqual(ms, 1_795_000_000_123)
    }

    /// The hand-written formatter agrees with Foundation's, for every nibble position.
    func testTextFormsMatchFoundationLowercased() {
        let source = TimeOrderedUUIDs()
        for id in (0..<200).map({ _ in source.make() }) + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))] {
            XCTAssertEqual(id.lowercasedText, id.uuidString.lowercased())
        }
    }
}
