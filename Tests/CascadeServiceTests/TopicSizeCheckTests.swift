@testable import CascadeService
import Kafka
import XCTest

final class TopicSizeCheckTests: XCTestCase {
    private let topics = ["results", "requests", "dlq"]

    func testTopicsThatTakeTheLargestMessageFit() {
        let reported = Dictionary(uniqueKeysWithValues: topics.map { ($0, ["max.message.bytes": "1114112"]) })
        XCTAssertEqual(TopicSizeCheck.evaluate(topics: topics, required: 1_114_112, reported: .success(reported)), .fits)
    }

    func testATopicBelowTheLargestMessageIsNamed() {
        var reported = Dictionary(uniqueKeysWithValues: topics.map { ($0, ["max.message.bytes": "2000000"]) })
        reported["dlq"] = ["max.message.bytes": "1048588"]
        XCTAssertEqual(TopicSizeCheck.evaluate(topics: topics, required: 1_114_112, reported: .success(reported)),
                       .tooSmall(["dlq has max.message.bytes=1048588"]))
    }

    /// A broker that stores only the settings given at creation (Tansu) says nothing of the
    /// others; too small wins over unknown, since one known refusal is enough to stop.
    func testWhatTheBrokerDoesNotSayIsUnknownNotAssumed() {
        XCTAssertEqual(TopicSizeCheck.evaluate(topics: topics, required: 10, reported: .success(["results": ["max.message.bytes": "20"]])),
                       .unknown(topics: ["requests", "dlq"], why: "the broker reported no max.message.bytes"))
        XCTAssertEqual(TopicSizeCheck.evaluate(topics: topics, required: 10, reported: .success(["results": ["max.message.bytes": "5"]])),
                       .tooSmall(["results has max.message.bytes=5"]))
        let failed = KafkaError(code: -185, name: "_TIMED_OUT", message: "no controller", isRetriable: true, isFatal: false)
        guard case .unknown(let unknown, let why) = TopicSizeCheck.evaluate(topics: topics, required: 10, reported: .failure(failed)) else {
            return XCTFail("a broker without DescribeConfigs leaves the check undone")
        }
        XCTAssertEqual(unknown, topics)
        XCTAssertTrue(why.contains("_TIMED_OUT"), why)
    }
}
