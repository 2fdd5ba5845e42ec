import CascadeDomain
import CascadeService
import Foundation
import Postgres
import XCTest

final class RandomUUIDsTests: XCTestCase {
    /// Past several refills of the pool: every id is a well-formed version 4 UUID, none repeats.
    func testIdsAreVersion4AndDistinct() {
        let source = RandomUUIDs()
        let ids = (0..<2_000).map { _ in source.make() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids {
            XCTAssertEqual(id.uuid.6 >> 4, 4, "version")
            XCTAssertEqual(id.uuid.8 >> 6, 0b10, "variant")
        }
        XCTAssertNotEqual(RandomUUIDs().make(), RandomUUIDs().make())
    }

    /// The two hand-written formatters agree with Foundation's, for every nibble position.
    func testTextFormsMatchFoundationLowercased() {
        let source = RandomUUIDs()
        for id in (0..<200).map({ _ in source.make() }) + [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))] {
            XCTAssertEqual(id.lowercasedText, id.uuidString.lowercased())
            XCTAssertEqual(id.postgresText, id.uuidString.lowercased())
        }
    }
}
