import XCTest
import HTTP

final class ListenAddressTests: XCTestCase {
    func testAcceptedForms() throws {
        let cases: [(String, String, ListenAddress.Family, Int)] = [
            ("127.0.0.1:9090", "127.0.0.1", .ipv4, 9090),
            ("0.0.0.0:0", "0.0.0.0", .ipv4, 0),
            ("localhost:65535", "127.0.0.1", .ipv4, 65535),
            ("[::]:80", "::", .ipv6, 80),
            ("[::1]:8080", "::1", .ipv6, 8080),
        ]
        for (text, host, family, port) in cases {
            let address = try ListenAddress.parse(text)
            XCTAssertEqual(address.host, host, text)
            XCTAssertEqual(address.family, family, text)
            XCTAssertEqual(address.port, port, text)
        }
    }

    func testRefusedFormsSayWhatIsWrong() {
        let cases: [(String, ListenAddressError)] = [
            ("127.0.0.1", .missingPort("127.0.0.1")),
            ("127.0.0.1:", .missingPort("127.0.0.1:")),
            (":9090", .emptyHost(":9090")),
            ("[]:9090", .emptyHost("[]:9090")),
            ("127.0.0.1:http", .invalidPort("127.0.0.1:http", "http")),
            ("127.0.0.1:-1", .invalidPort("127.0.0.1:-1", "-1")),
            ("127.0.0.1:65536", .portOutOfRange("127.0.0.1:65536", 65536)),
            ("127.0.0.1:9999999999", .invalidPort("127.0.0.1:9999999999", "9999999999")),
            ("example.com:80", .invalidHost("example.com:80", "example.com")),
            ("256.0.0.1:80", .invalidHost("256.0.0.1:80", "256.0.0.1")),
            ("::1:80", .invalidHost("::1:80", "::1")),
            ("[::1:80", .unclosedBracket("[::1:80")),
            ("[::1]80", .missingPort("[::1]80")),
            ("[127.0.0.1]:80", .invalidHost("[127.0.0.1]:80", "127.0.0.1")),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try ListenAddress.parse(text), text) { error in
                XCTAssertEqual(error as? ListenAddressError, expected, text)
            }
        }
    }

    func testMessagesNameTheInputAndTheRemedy() {
        XCTAssertEqual(ListenAddressError.missingPort("h").description,
                       "listen address 'h' has no port; expected HOST:PORT, e.g. 127.0.0.1:9090")
        XCTAssertEqual(ListenAddressError.portOutOfRange("h:70000", 70000).description,
                       "listen address 'h:70000': port 70000 is outside 0...65535")
    }
}
