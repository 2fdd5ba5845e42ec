/// librdkafka properties given as environment variables, for orchestrators that configure
/// through ConfigMaps and Secrets rather than flags: `CASCADE_KAFKA_SASL_USERNAME=u` sets
/// `sasl.username`. The name after the prefix is the property upper-cased, with `.` written `_`,
/// `-` written `__` and `_` written `___` (the mapping Confluent's images use for `KAFKA_`).
extension KafkaConfig {
    public static let environmentPrefix = "CASCADE_KAFKA_"

    /// The properties set in `environment`, in name order. Empty values are skipped, as for
    /// every other variable Cascade reads.
    public static func fromEnvironment(_ environment: [String: String],
                                       prefix: String = environmentPrefix) throws(KafkaError) -> KafkaConfig {
        var config = KafkaConfig()
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(prefix) && !value.isEmpty {
            guard let property = propertyName(environmentName: String(name.dropFirst(prefix.count))) else {
                throw .invalidArgument("\(name) does not name a librdkafka property: after \(prefix) use upper-case "
                    + "letters and digits, with _ for '.', __ for '-' and ___ for '_' (e.g. \(prefix)SASL_USERNAME)")
            }
            config.set(property, value)
        }
        return config
    }

    /// `SESSION_TIMEOUT_MS` → `session.timeout.ms`, `LOG___LEVEL` → `log_level`; nil for
    /// anything else (lower case, other characters, four underscores, or one at either end).
    public static func propertyName(environmentName: String) -> String? {
        var property = ""
        var underscores = 0
        func flush() -> Bool {
            switch underscores {
            case 0: return true
            case 1: property.append(".")
            case 2: property.append("-")
            case 3: property.append("_")
            default: return false
            }
            underscores = 0
            return true
        }
        for character in environmentName.unicodeScalars {
            switch character {
            case "_":
                underscores += 1
            case "A"..."Z", "0"..."9":
                if property.isEmpty && underscores > 0 { return nil }
                guard flush() else { return nil }
                property.unicodeScalars.append(character.properties.lowercaseMapping.unicodeScalars.first!)
            default:
                return nil
            }
        }
        return property.isEmpty || underscores > 0 ? nil : property
    }
}
