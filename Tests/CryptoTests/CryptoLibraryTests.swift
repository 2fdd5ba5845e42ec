import Crypto
import XCTest

final class CryptoLibraryTests: XCTestCase {
    func testVersionIsOpenSSL3() {
        XCTAssertTrue(CryptoLibrary.versionString.hasPrefix("OpenSSL 3."), CryptoLibrary.versionString)
    }
}
