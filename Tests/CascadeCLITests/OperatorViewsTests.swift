@testable import CascadeCLI
import CascadeService
import Kafka
import Metrics
import XCTest

final class StatusViewTests: XCTestCase {
    func testTheLinesSayReadinessLagThroughputAndOutbox() {
        let before = ScrapedMetrics(parsing: "cascade_reports_total{code=\"200\"} 100\ncascade_reports_total{code=\"400\"} 1\n")
        let after = ScrapedMetrics(parsing: """
            cascade_reports_total{code="200"} 300
            cascade_reports_total{code="400"} 1
            cascade_assigned_partitions 6
            cascade_consumer_lag_messages{topic="r",partition="0"} 40
            cascade_consumer_lag_messages{topic="r",partition="1"} 2
            cascade_consumer_lag_seconds{topic="r",partition="0"} 3.25
            cascade_consumer_lag_seconds{topic="r",partition="1"} 0.5
            cascade_outbox_rows 4
            cascade_outbox_oldest_age_seconds 0.7
            cascade_deliveries_total{result="published"} 900
            cascade_dependency_reachable{dependency="kafka"} 1
            cascade_dependency_reachable{dependency="postgres"} 0
            """)
        let lines = StatusView.lines(before: before, after: after, seconds: 2, readiness: (false, "PostgreSQL unreachable for 9 s\n"),
                                     address: "127.0.0.1:9464")
        XCTAssertEqual(lines, [
            "member 127.0.0.1:9464: NOT READY (PostgreSQL unreachable for 9 s)",
            "lag: 42 reports over 6 partitions; oldest unapplied 3.2 s",
            "reports: 200 100/s (300 total), 400 0/s (1 total)",
            "outbox: 4 rows, oldest 0.7 s; published 900, failed 0, parked 0",
            "dependencies: kafka reachable, postgres UNREACHABLE",
        ])
    }
}

final class SinceTimeTests: XCTestCase {
    func testAgesAndRFC3339TimesAreReadAndAnythingElseIsNot() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertEqual(SinceTime.parse("90s", now: now), now.addingTimeInterval(-90))
        XCTAssertEqual(SinceTime.parse("15m", now: now), now.addingTimeInterval(-900))
        XCTAssertEqual(SinceTime.parse("2h", now: now), now.addingTimeInterval(-7200))
        XCTAssertEqual(SinceTime.parse("7d", now: now), now.addingTimeInterval(-604_800))
        XCTAssertEqual(SinceTime.parse("1970-01-12T13:46:40Z", now: now), now)
        XCTAssertEqual(SinceTime.parse("1970-01-12T13:46:40.500Z", now: now), now.addingTimeInterval(0.5))
        for bad in ["", "m", "-5m", "5w", "yesterday", "2026-13-01T00:00:00Z", "5 m"] {
            XCTAssertNil(SinceTime.parse(bad, now: now), bad)
        }
    }
}

final class LagRowTests: XCTestCase {
    private let tp0 = TopicPartition("reports", 0), tp1 = TopicPartition("reports", 1)

    private var rows: [LagRow] {
        let owner = ConsumerGroupDescription.Member(memberId: "m-1", clientId: "cascade-consumer", host: "/10.0.0.7", assignment: [tp0])
        let description = ConsumerGroupDescription(state: "Stable", members: [owner])
        return [
            LagRow(lag: PartitionLag(tp0, .init(committed: 90, low: 0, logEnd: 100, nextReportTimestampMs: 7_000), nowMs: 10_000),
                   owner: description.owner(of: tp0)),
            LagRow(lag: PartitionLag(tp1, .init(committed: nil, low: 5, logEnd: 5), nowMs: 10_000), owner: description.owner(of: tp1)),
        ]
    }

    func testTheTableShowsEachPartitionItsOwnerAndATotal() {
        XCTAssertEqual(LagRow.table(rows, group: "cascade", state: "Stable"), """
            GROUP    TOPIC    PARTITION  COMMITTED  LOG-END  LAG  LAG-SECONDS  OWNER
            cascade  reports  0          90         100      10   3.0          cascade-consumer@/10.0.0.7
            cascade  reports  1          -          5        0    0.0          -
            cascade  TOTAL                                   10   3.0 (max)    group Stable

            """)
    }

    func testTheJSONHasEveryFigureAndNullsForWhatIsNotKnown() throws {
        let json = LagRow.json(rows, group: "cascade", topic: "reports", state: nil)
        XCTAssertEqual(json["total_lag"], 10)
        XCTAssertEqual(json["max_lag_seconds"], .number("3.000"))
        XCTAssertEqual(json["state"], .null)
        guard case .array(let partitions)? = json["partitions"] else { return XCTFail("\(json)") }
        XCTAssertEqual(partitions[0]["owner"]?["member_id"], "m-1")
        XCTAssertEqual(partitions[1]["committed"], .null)
        XCTAssertEqual(partitions[1]["owner"], .null)
    }
}
