import CascadeService
import Kafka
import XCTest

/// When a member leaves the group at close: a dynamic member always; a static one only when
/// the leave-group file (written by a preStop hook at scale-in) exists.
final class StaticMembershipSettingsTests: XCTestCase {
    private func settings(instance: String?, file: String?) -> ServiceSettings {
        var settings = ServiceSettings(brokers: "b:9092", databaseURL: nil)
        settings.instanceId = instance
        settings.leaveGroupFile = file
        return settings
    }

    func testADynamicMemberAlwaysLeaves() {
        XCTAssertTrue(settings(instance: nil, file: nil).leavesGroupAtClose { _ in false })
        XCTAssertTrue(settings(instance: nil, file: "/run/leave").leavesGroupAtClose { _ in false })
    }

    func testAStaticMemberStaysUnlessItsLeaveFileExists() {
        XCTAssertFalse(settings(instance: "cascade-0", file: nil).leavesGroupAtClose { _ in true })
        XCTAssertFalse(settings(instance: "cascade-0", file: "/run/leave").leavesGroupAtClose { _ in false })
        var asked: [String] = []
        XCTAssertTrue(settings(instance: "cascade-0", file: "/run/leave").leavesGroupAtClose { asked.append($0); return true })
        XCTAssertEqual(asked, ["/run/leave"])
    }

    func testTheInstanceIdBecomesGroupInstanceIdAndAnOverrideWins() throws {
        XCTAssertNil(settings(instance: nil, file: nil).consumerConfig()["group.instance.id"])
        XCTAssertEqual(settings(instance: "cascade-2", file: nil).consumerConfig()["group.instance.id"], "cascade-2")
        var overridden = settings(instance: "cascade-2", file: nil)
        overridden.kafkaOverrides = KafkaConfig(["group.instance.id": "other"])
        XCTAssertEqual(overridden.consumerConfig()["group.instance.id"], "other")
        XCTAssertNil(settings(instance: "cascade-2", file: nil).producerConfig()["group.instance.id"])
    }
}
