import Kafka
import XCTest

final class KafkaConfigTests: XCTestCase {
    func testOverrideSplitsAtTheFirstEqualsSign() throws {
        var config = KafkaConfig()
        try config.apply(override: "sasl.jaas.config=a=b")
        XCTAssertEqual(config["sasl.jaas.config"], "a=b")
    }

    func testOverrideWithoutKeyOrEqualsIsRejected() {
        var config = KafkaConfig()
        XCTAssertThrowsError(try config.apply(override: "novalue"))
        XCTAssertThrowsError(try config.apply(override: "=x"))
    }

    func testLaterSettingsWin() {
        let merged = KafkaConfig(["acks": "1"]).merging(KafkaConfig(["acks": "all"]))
        XCTAssertEqual(merged["acks"], "all")
        XCTAssertEqual(merged.properties.count, 1)
    }
}
