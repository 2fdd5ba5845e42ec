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
        XCTAssertEqual(settings(instance: nil, file: nil).closing { _ in false }, .dynamicLeave)
        XCTAssertEqual(settings(instance: nil, file: "/run/leave").closing { _ in true }, .dynamicLeave)
    }

    func testAStaticMemberStaysUnlessItsLeaveFileExists() {
        XCTAssertEqual(settings(instance: "cascade-0", file: nil).closing { _ in true }, .staticStay)
        XCTAssertEqual(settings(instance: "cascade-0", file: "/run/leave").closing { _ in false }, .staticStay)
        var asked: [String] = []
        XCTAssertEqual(settings(instance: "cascade-0", file: "/run/leave").closing { asked.append($0); return true }, .staticLeave)
        XCTAssertEqual(asked, ["/run/leave"])
    }

    func testTheInstanceIdBecomesGroupInstanceIdForTheConsumerOnly() throws {
        XCTAssertNil(settings(instance: nil, file: nil).consumerConfig()["group.instance.id"])
        XCTAssertEqual(settings(instance: "cascade-2", file: nil).consumerConfig()["group.instance.id"], "cascade-2")
        XCTAssertNil(settings(instance: "cascade-2", file: nil).producerConfig()["group.instance.id"])
    }
}
