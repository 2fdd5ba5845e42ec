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

/// `CASCADE_KAFKA_<PROPERTY>` variables: the form a ConfigMap or a Secret gives librdkafka properties.
final class KafkaEnvironmentTests: XCTestCase {
    func testNamesMapToPropertiesAsConfluentsImagesMapThem() {
        let cases = ["SESSION_TIMEOUT_MS": "session.timeout.ms", "SASL_USERNAME": "sasl.username", "LOG___LEVEL": "log_level",
                     "A__B": "a-b", "SSL_CA_LOCATION": "ssl.ca.location", "X9": "x9", "API_VERSION_REQUEST": "api.version.request"]
        for (name, property) in cases { XCTAssertEqual(KafkaConfig.propertyName(environmentName: name), property, name) }
    }

    func testNamesThatCannotBeAPropertyAreRefused() {
        for name in ["", "_A", "A_", "A____B", "sasl_username", "SASL-USERNAME", "SASL.USERNAME", "SASL USERNAME", "É"] {
            XCTAssertNil(KafkaConfig.propertyName(environmentName: name), name)
        }
    }

    func testOnlyPrefixedNonEmptyVariablesAreTaken() throws {
        let config = try KafkaConfig.fromEnvironment(["CASCADE_KAFKA_SASL_USERNAME": "u", "CASCADE_KAFKA_CLIENT_ID": "",
                                                      "KAFKA_SASL_PASSWORD": "p", "CASCADE_BROKERS": "b:9092", "PATH": "/bin"])
        XCTAssertEqual(config.properties.map(\.key), ["sasl.username"])
        XCTAssertEqual(config["sasl.username"], "u")
    }

    func testABadNameIsAnErrorNamingTheVariableAndNotItsValue() {
        XCTAssertThrowsError(try KafkaConfig.fromEnvironment(["CASCADE_KAFKA_sasl_password": "hunter2"])) { error in
            let message = (error as? KafkaError)?.message ?? ""
            XCTAssertTrue(message.contains("CASCADE_KAFKA_sasl_password does not name a librdkafka property"), message)
            XCTAssertFalse(message.contains("hunter2"), message)
        }
    }

    func testCredentialsAreRecognisedAndNeverEchoedWhenRefused() throws {
        for key in ["sasl.password", "ssl.key.password", "ssl.key.pem", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
                    "ssl.keystore.password", "sasl.oauthbearer.assertion.private.key.passphrase"] {
            XCTAssertTrue(KafkaConfig.isSensitive(key), key)
        }
        for key in ["sasl.username", "bootstrap.servers", "session.timeout.ms", "security.protocol"] {
            XCTAssertFalse(KafkaConfig.isSensitive(key), key)
        }
        // An unknown property named like a credential: librdkafka refuses it, and the error
        // names it without its value; an ordinary one keeps its value for the operator.
        XCTAssertThrowsError(try KafkaProducer(config: KafkaConfig(["my.secret.thing": "hunter2"]))) { error in
            XCTAssertTrue("\(error)".contains("my.secret.thing (value not shown)"), "\(error)")
            XCTAssertFalse("\(error)".contains("hunter2"), "\(error)")
        }
        XCTAssertThrowsError(try KafkaProducer(config: KafkaConfig(["no.such.property": "visible"]))) { error in
            XCTAssertTrue("\(error)".contains("no.such.property=visible"), "\(error)")
        }
    }
}
