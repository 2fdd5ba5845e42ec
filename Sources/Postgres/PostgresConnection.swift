import CLibPQ
import Foundation

/// One libpq connection. Not Sendable: a `PGconn` must never serve two threads at once, so the
/// compiler keeps each connection on the thread (or task) that made it.
public final class PostgresConnection {
    private var conn: OpaquePointer
    /// Statements with parameters are prepared once per connection and then executed by name:
    /// parsing and planning every statement again cost more than executing it.
    private var preparedNames: [String: String] = [:]
    /// Set when a pipeline was abandoned half way: answers may still be queued on the socket,
    /// so the session cannot be trusted and is reset before its next use.
    private var needsReset = false
    /// Counts sessions: a transaction's round trips must all run on the one that saw BEGIN.
    public private(set) var session = 0

    /// `url` is a `postgres://` URL or a libpq key=value string; nil or empty uses the `PG*`
    /// environment variables, as psql does. `Self.timeoutDefaults` apply unless the URL sets them.
    public init(url: String? = nil) throws(PostgresError) {
        let settings = Self.timeoutDefaults + [("dbname", url ?? "")]
        conn = Self.withCStrings(settings.map(\.0)) { keywords in
            Self.withCStrings(settings.map(\.1)) { values in
                // expand_dbname: the URL is parsed in place of dbname and, coming last, overrides the defaults.
                PQconnectdbParams(keywords, values, 1)
            }
        }!
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = ConnectFailure.scrubbed("connect: \(errorMessage())", url: url)
            throw PostgresError(kind: .connectionLost, sqlState: nil, message: message)
        }
        try configureSession()
    }

    /// A database that stops answering (a host gone, packets dropped) must fail a connection
    /// attempt or a statement within a bounded time, not hang a worker or the probe for the
    /// kernel's TCP timeouts (minutes): connect within 10 s; a session idle for 30 s is probed
    /// every 10 s and dropped after 3 missed probes; unacknowledged data fails after 60 s.
    public static let timeoutDefaults: [(String, String)] = [
        ("connect_timeout", "10"), ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "60000"),
    ]

    /// A connection option as libpq resolved it (the URL, the defaults above, the `PG*` variables).
    public func setting(_ keyword: String) -> String? {
        guard let options = PQconninfo(conn) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    deinit { PQfinish(conn) }

    public var isConnected: Bool { PQstatus(conn) == CONNECTION_OK && !needsReset }
    /// Server process id, for diagnostics and for tests that terminate a backend.
    public var backendPID: Int32 { PQbackendPID(conn) }

    /// Runs one statement with bound parameters and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> PostgresRows {
        try reconnectIfNeeded()
        guard let name = try preparedName(sql, parameterCount: parameters.count) else {
            return try consume(PQexecParams(conn, sql, 0, nil, nil, nil, nil, 0), sql: sql)
        }
        let result = try withParameters(parameters) { values, lengths, formats, count in
            PQexecPrepared(conn, name, count, values, lengths, formats, 0)
        }
        return try consume(result, sql: sql)
    }

    /// Runs statements without parameters (schema scripts); several may be separated by `;`.
    public func execute(script: String) throws(PostgresError) {
        try reconnectIfNeeded()
        _ = try consume(PQexec(conn, script), sql: script)
    }

    /// The one way to run a transaction. BEGIN travels with the body's first round trip and
    /// COMMIT with its last (`PostgresTransaction.commit(with:)`), or alone when the body
    /// returns without committing. A throw rolls back; if the ROLLBACK fails too, both errors
    /// are thrown together (`PostgresTransactionError`), so the cause is never hidden.
    public func withTransaction<T>(_ body: (PostgresTransaction) throws -> T) throws -> T {
        let transaction = PostgresTransaction(self)
        do {
            let value = try body(transaction)
            if !transaction.isCommitted { _ = try transaction.commit() }
            return value
        } catch {
            guard transaction.hasBegun, !transaction.isCommitted, isConnected else { throw error }
            do {
                _ = try pipeline([PipelineStatement("ROLLBACK")])
            } catch let rollback {
                throw PostgresTransactionError(cause: error, rollbackFailure: rollback)
            }
            throw error
        }
    }

    /// Sends every statement in one round trip (libpq pipeline mode) and returns their results
    /// in order. The first failing statement's error is thrown; statements after it in the same
    /// pipeline are skipped by the server. Wrap in `withTransaction` for all-or-nothing.
    public func pipeline(_ statements: [PipelineStatement]) throws(PostgresError) -> [PostgresRows] {
        guard !statements.isEmpty else { return [] }
        try reconnectIfNeeded()
        var names: [String?] = []
        for statement in statements { names.append(try preparedName(statement.sql, parameterCount: statement.parameters.count)) }
        guard PQenterPipelineMode(conn) == 1 else { throw lastError("enter pipeline mode") }
        // Whatever happens below, blocking mode comes back, and a pipeline left with answers
        // unread marks the session for a reset instead of confusing the next statement.
        var finished = false
        defer {
            PQsetnonblocking(conn, 0)
            if !finished || PQexitPipelineMode(conn) != 1 { needsReset = true }
        }
        // Nonblocking while sending: with many statements the server's answers must be read as
        // they come, or both sides block on full socket buffers.
        PQsetnonblocking(conn, 1)
        for (statement, name) in zip(statements, names) {
            let sent = try withParameters(statement.parameters) { values, lengths, formats, count in
                if let name { return PQsendQueryPrepared(conn, name, count, values, lengths, formats, 0) }
                return PQsendQueryParams(conn, statement.sql, count, nil, values, lengths, formats, 0)
            }
            guard sent == 1 else { throw lastError("pipeline send") }
        }
        guard PQpipelineSync(conn) == 1 else { throw lastError("pipeline sync") }
        try flushReadingAnswers()
        PQsetnonblocking(conn, 0)

        var results: [PostgresRows] = []
        results.reserveCapacity(statements.count)
        var firstError: PostgresError?
        for statement in statements {
            guard let result = PQgetResult(conn) else { throw lastError("pipeline result missing") }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                results.append(PostgresRows(columns: [], values: [], affectedRows: 0))
            } else {
                do {
                    results.append(try consume(result, sql: statement.sql))
                } catch {
                    firstError = firstError ?? error
                    results.append(PostgresRows(columns: [], values: [], affectedRows: 0))
                }
            }
            while let extra = PQgetResult(conn) { PQclear(extra) }  // the NULL that ends each statement
        }
        guard let sync = PQgetResult(conn) else { throw lastError("pipeline sync missing") }
        finished = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        guard finished else {
            // The server answered the sync with an error of its own (its session terminated,
            // say): that result's SQLSTATE says what it was (57P01 is a lost connection).
            let syncError: PostgresError
            do { _ = try consume(sync, sql: "pipeline sync"); syncError = lastError("pipeline sync") } catch { syncError = error }
            throw firstError ?? syncError
        }
        PQclear(sync)
        if let firstError { throw firstError }
        return results
    }

    // MARK: - internals

    private func configureSession() throws(PostgresError) {
        // Timestamps come back in UTC, which PostgresTimestamp.parse expects anyway.
        // NOTICEs (e.g. "relation already exists, skipping") would otherwise go to stderr.
        _ = try consume(PQexec(conn, "SET TIME ZONE 'UTC'; SET client_min_messages TO warning"), sql: "SET TIME ZONE")
    }

    /// The server-side name of `sql`, preparing it on first use; nil for statements without
    /// parameters (BEGIN, COMMIT, scripts), which are cheap to parse and often not preparable.
    private func preparedName(_ sql: String, parameterCount: Int) throws(PostgresError) -> String? {
        guard parameterCount > 0 else { return nil }
        if let name = preparedNames[sql] { return name }
        let name = "cascade_\(preparedNames.count + 1)"
        _ = try consume(PQprepare(conn, name, sql, Int32(parameterCount), nil), sql: sql)
        preparedNames[sql] = name
        return name
    }

    /// Re-establishes a connection that libpq saw break (server restart, network loss) or that
    /// an abandoned pipeline left in an unknown state. The service's only reconnect mechanism:
    /// callers retry, and the next statement finds a fresh session.
    private func reconnectIfNeeded() throws(PostgresError) {
        guard PQstatus(conn) != CONNECTION_OK || needsReset else { return }
        needsReset = false
        session += 1
        preparedNames = [:]  // they died with the old session
        PQreset(conn)
        try checkConnected(context: "reconnect")
        try configureSession()
    }

    private func checkConnected(context: String) throws(PostgresError) {
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(kind: .connectionLost, sqlState: nil,
                                message: "\(context): \(errorMessage())")
        }
    }

    private func flushReadingAnswers() throws(PostgresError) {
        while true {
            let flushed = PQflush(conn)
            if flushed == 0 { return }
            if flushed < 0 { throw lastError("pipeline flush") }
            var fd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN | POLLOUT), revents: 0)
            _ = poll(&fd, 1, 1000)
            if fd.revents & Int16(POLLIN) != 0, PQconsumeInput(conn) == 0 { throw lastError("pipeline read") }
        }
    }

    /// Copies a result out and clears it.
    private func consume(_ result: OpaquePointer?, sql: String) throws(PostgresError) -> PostgresRows {
        guard let result else { throw lastError("no result") }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            let rowCount = Int(PQntuples(result)), columnCount = Int(PQnfields(result))
            let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
            var values: [[String?]] = []
            values.reserveCapacity(rowCount)
            for r in 0..<Int32(rowCount) {
                values.append((0..<Int32(columnCount)).map { c in
                    PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
                })
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return PostgresRows(columns: columns, values: values, affectedRows: affected)
        default:
            let field = { (code: Character) -> String? in
                PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
            }
            let message = field("M") ?? String(cString: PQresultErrorMessage(result))
            let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
            // libpq makes up a result without SQLSTATE when the failure is on our side of the
            // socket; only a dead connection makes that a lost connection.
            guard let sqlState = field("C") else {
                let lost = PQstatus(conn) != CONNECTION_OK || text.hasPrefix("FATAL:") || text.contains("server closed the connection")
                throw PostgresError(kind: lost ? .connectionLost : .client, sqlState: nil, message: text)
            }
            throw PostgresError(sqlState: sqlState, message: text, detail: field("D"), constraint: field("n"))
        }
    }

    /// A failure libpq reports without a result. The socket can already be closed by the server
    /// (a FATAL message) before libpq's status says so: that too is a lost connection, to retry.
    private func lastError(_ context: String) -> PostgresError {
        let message = errorMessage()
        let lost = PQstatus(conn) != CONNECTION_OK || message.hasPrefix("FATAL:") || message.contains("server closed the connection")
        return PostgresError(kind: lost ? .connectionLost : .client, sqlState: nil, message: "\(context): \(message)")
    }

    private func errorMessage() -> String {
        String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
    }


    /// Lends libpq the parameters as C arrays: values, lengths and formats (text, or binary
    /// for values that have a binary form, which then travel without any encoding).
    /// Text travels as C strings, which end at a NUL: libpq would send what comes before it and
    /// drop the rest without a word. PostgreSQL text cannot hold NUL anyway, so such a value is
    /// refused as the server refuses bad text (invalid input).
    private func withParameters<R>(
        _ parameters: [any PostgresBindable],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32) -> R
    ) throws(PostgresError) -> R {
        if parameters.isEmpty { return body(nil, nil, nil, 0) }
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        buffers.reserveCapacity(parameters.count)
        defer { buffers.forEach { $0.map { free($0) } } }
        for (index, parameter) in parameters.enumerated() {
            switch parameter.postgresParameter {
            case .null:
                buffers.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                if text.utf8.contains(0) {
                    throw PostgresError(kind: .invalidInput, sqlState: nil,
                                        message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold")
                }
                buffers.append(strdup(text)!)
                lengths.append(0)
                formats.append(0)
            case .binary(let binary):
                let buffer = malloc(max(binary.count, 1))!.assumingMemoryBound(to: CChar.self)  // freed with the strdup'ed ones
                binary.withUnsafeBytes { if let base = $0.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: $0.count) } }
                buffers.append(buffer)
                lengths.append(Int32(binary.count))
                formats.append(1)
            }
        }
        return buffers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                body(values, lengths, formats, Int32(parameters.count))
            }
        }
    }
}

/// One statement of a pipeline.
public struct PipelineStatement: Sendable {
    public let sql: String
    public let parameters: [any PostgresBindable]
    public init(_ sql: String, _ parameters: [any PostgresBindable] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// A transaction in progress (`PostgresConnection.withTransaction`). Not Sendable, like its
/// connection.
public final class PostgresTransaction {
    public let connection: PostgresConnection
    public private(set) var hasBegun = false
    public private(set) var isCommitted = false
    private var beganOn = 0

    init(_ connection: PostgresConnection) { self.connection = connection }

    /// Sends `statements` in one round trip inside the transaction (BEGIN goes first, the first
    /// time) and returns their results.
    public func send(_ statements: [PipelineStatement]) throws(PostgresError) -> [PostgresRows] {
        try run(statements, committing: false)
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresBindable] = []) throws(PostgresError) -> PostgresRows {
        try send([PipelineStatement(sql, parameters)])[0]
    }

    /// A multi-statement script (a migration) inside the transaction.
    public func execute(script: String) throws(PostgresError) {
        if !hasBegun { _ = try send([]) }
        try connection.execute(script: script)
    }

    /// Sends the last statements with COMMIT in the same round trip; returns their results.
    @discardableResult
    public func commit(with statements: [PipelineStatement] = []) throws(PostgresError) -> [PostgresRows] {
        let results = try run(statements, committing: true)
        isCommitted = true
        return results
    }

    private func run(_ statements: [PipelineStatement], committing: Bool) throws(PostgresError) -> [PostgresRows] {
        precondition(!isCommitted, "the transaction has already committed")
        let begin = hasBegun ? [] : [PipelineStatement("BEGIN")]
        // A reset between round trips would run the rest outside the transaction, without
        // its BEGIN or its row locks: the session must be the one that began it.
        if hasBegun, connection.session != beganOn || !connection.isConnected {
            throw PostgresError(kind: .connectionLost, sqlState: nil, message: "the session of this transaction was lost")
        }
        hasBegun = true
        let results = try connection.pipeline(begin + statements + (committing ? [PipelineStatement("COMMIT")] : []))
        if !begin.isEmpty { beganOn = connection.session }
        return Array(results[begin.count..<begin.count + statements.count])
    }
}

/// A transaction failed, and so did its ROLLBACK: both, so that the cause is not lost.
public struct PostgresTransactionError: Error, CustomStringConvertible {
    public let cause: any Error
    public let rollbackFailure: any Error
    public init(cause: any Error, rollbackFailure: any Error) {
        self.cause = cause
        self.rollbackFailure = rollbackFailure
    }
    public var description: String { "\(cause) (and the ROLLBACK failed too: \(rollbackFailure))" }
}
