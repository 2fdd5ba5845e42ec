@testable import CascadeService
import XCTest

final class DatabaseAddressTests: XCTestCase {
    func testThePasswordNeverAppears() {
        XCTAssertEqual(DatabaseAddress.redacted("postgres://cascade:s3cret@db:5432/cascade?sslmode=require&password=x"),
                       "postgres://cascade@db:5432/cascade")
        XCTAssertEqual(DatabaseAddress.redacted("postgresql://u:p%40ss@h/d"), "postgresql://u@h/d")
        XCTAssertEqual(DatabaseAddress.redacted("postgres://only-user@h:1/d"), "postgres://only-user@h:1/d")
        XCTAssertEqual(DatabaseAddress.redacted("postgres://:pw@h/d"), "postgres://h/d")
        XCTAssertEqual(DatabaseAddress.redacted("postgres://h/d"), "postgres://h/d")
        XCTAssertEqual(DatabaseAddress.redacted("host=db user=u password=s3cret dbname=c"), "host=db user=u dbname=c")
        XCTAssertEqual(DatabaseAddress.redacted(nil), "(libpq PG* variables)")
        for url in ["postgres://u:s3cret@h/d", "host=h password=s3cret"] {
            XCTAssertFalse(DatabaseAddress.redacted(url).contains("s3cret"), url)
        }
    }
}
