import CascadeCLI
import XCTest

final class ArgumentsTests: XCTestCase {
    private let spec = CommandSpec(["thing", "do"], "Does a thing.", positionals: [("NAME", "a name")], options: [
        .value("size", "N", "how big", env: "THING_SIZE", default: "3"),
        .value("tag", "T", "a tag", repeatable: true),
        .value("color", "C", "a color"),
        .flag("dry-run", "change nothing"),
    ]) { _ in 0 }

    func testValuesComeFromFlagsThenEnvironmentThenDefault() throws {
        XCTAssertEqual(try spec.parse(["n", "--size", "9"], environment: ["THING_SIZE": "5"]).value("size"), "9")
        XCTAssertEqual(try spec.parse(["n"], environment: ["THING_SIZE": "5"]).value("size"), "5")
        XCTAssertEqual(try spec.parse(["n"], environment: [:]).value("size"), "3")
        XCTAssertNil(try spec.parse(["n"], environment: [:]).value("color"))
    }

    func testEqualsFormRepeatableOptionsFlagsAndPositionals() throws {
        let args = try spec.parse(["--tag=a", "name", "--tag", "b=c", "--dry-run"], environment: [:])
        XCTAssertEqual(args.positionals, ["name"])
        XCTAssertEqual(args.values("tag"), ["a", "b=c"])
        XCTAssertTrue(args.flag("dry-run"))
    }

    func testDoubleDashEndsOptions() throws {
        XCTAssertEqual(try spec.parse(["--", "--size"], environment: [:]).positionals, ["--size"])
    }

    func testMistakesAreUsageErrorsThatSayWhat() {
        let cases: [([String], String)] = [
            (["n", "--bogus"], "unknown option --bogus"),
            (["n", "--size"], "--size needs a value (N)"),
            (["n", "--color", "a", "--color", "b"], "--color given more than once"),
            (["n", "--dry-run=yes"], "--dry-run takes no value"),
            ([], "missing argument(s): expected NAME"),
            (["a", "b"], "unexpected argument 'b'"),
        ]
        for (argv, message) in cases {
            XCTAssertThrowsError(try spec.parse(argv, environment: [:]), "\(argv)") { XCTAssertEqual(($0 as? UsageError)?.message, message) }
        }
    }

    func testNumbersAndChoicesAreChecked() throws {
        let args = try spec.parse(["n", "--size", "x"], environment: [:])
        XCTAssertThrowsError(try args.int("size", range: 1...10)) {
            XCTAssertEqual(($0 as? UsageError)?.message, "--size must be a whole number from 1 to 10, got 'x'")
        }
        XCTAssertThrowsError(try args.required("color")) { XCTAssertEqual(($0 as? UsageError)?.message, "--color is required") }

        enum Color: String, CaseIterable { case red, green }
        XCTAssertEqual(try spec.parse(["n", "--color", "green"], environment: [:]).choice("color", as: Color.self), .green)
        XCTAssertNil(try spec.parse(["n"], environment: [:]).choice("color", as: Color.self))
        XCTAssertThrowsError(try spec.parse(["n", "--color", "blue"], environment: [:]).choice("color", as: Color.self)) {
            XCTAssertEqual(($0 as? UsageError)?.message, "--color must be one of red, green, got 'blue'")
        }
    }

    func testUsageListsEveryOptionWithItsEnvironmentAndDefault() {
        XCTAssertTrue(spec.usage.contains("usage: cascade thing do NAME [options]"))
        XCTAssertTrue(spec.usage.contains("--size N"))
        XCTAssertTrue(spec.usage.contains("[env THING_SIZE] (default 3)"))
        XCTAssertTrue(spec.usage.contains("--help"))
    }
}

final class CascadeCommandLineTests: XCTestCase {
    func testEveryVerbHasHelp() throws {
        for command in CascadeCLI.tool.commands {
            guard case .help(let text) = try CascadeCLI.tool.resolve(command.path + ["--help"], environment: [:]) else {
                return XCTFail("\(command.path) has no help")
            }
            XCTAssertTrue(text.hasPrefix("usage: cascade \(command.path.joined(separator: " "))"), text)
        }
    }

    func testTheLongestMatchingVerbWins() throws {
        guard case .run(let command, let args) = try CascadeCLI.tool.resolve(["subscription", "set-status", "x", "paused"], environment: [:]) else {
            return XCTFail()
        }
        XCTAssertEqual(command.path, ["subscription", "set-status"])
        XCTAssertEqual(args.positionals, ["x", "paused"])
    }

    func testVersionNamesCascadeAndTheLibrariesLoaded() {
        XCTAssertEqual(CascadeCLI.main(["--version"], environment: [:]), 0)
        XCTAssertFalse(CascadeCLI.version.isEmpty)
    }

    /// A bare `cascade`, or a group without its verb, is a usage error (exit 2), not help.
    func testNoVerbIsAUsageError() {
        XCTAssertEqual(CascadeCLI.main([], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["job"], environment: [:]), 2)
        XCTAssertThrowsError(try CascadeCLI.tool.resolve(["job"], environment: [:])) {
            XCTAssertEqual(($0 as? UsageError)?.message, "'job' takes: create, get, list")
        }
        XCTAssertEqual(CascadeCLI.main(["--help"], environment: [:]), 0, "asking for help is not an error")
        XCTAssertEqual(CascadeCLI.main(["job", "--help"], environment: [:]), 0)
    }

    func testUnknownVerbsAreUsageErrors() {
        XCTAssertThrowsError(try CascadeCLI.tool.resolve(["launch"], environment: [:]))
        XCTAssertThrowsError(try CascadeCLI.tool.resolve(["job", "delete"], environment: [:])) {
            XCTAssertTrue(($0 as? UsageError)?.message.contains("'job' takes: create, get, list") ?? false, "\($0)")
        }
    }

    func testBadConfigurationExitsWith2() {
        XCTAssertEqual(CascadeCLI.main(["consume"], environment: [:]), 2, "no brokers")
        XCTAssertEqual(CascadeCLI.main(["consume", "--brokers", "h:1", "--batch-size", "0"], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["consume", "--brokers", "h:1", "--kafka-config", "no.such=1"], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["consume", "--brokers", "h:1", "--kafka-config", "novalue"], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["report", "m", "v", "j", "--status", "done", "--brokers", "h:1"], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["report", "m", "v", "j", "--status", "success", "--output", "[1]", "--brokers", "h:1"], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["nope"], environment: [:]), 2)
        XCTAssertEqual(CascadeCLI.main(["--help"], environment: [:]), 0)
    }
}
