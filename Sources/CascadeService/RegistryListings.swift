import CascadeDomain
import Foundation
import Postgres

/// What the listing verbs show. Every list is read in key order with a bound, and jobs page by
/// key (keyset paging: `job_id > cursor`), so a page costs the same on page 1 and page 10,000
/// and uses the primary key, with no index added to the hot path's writes.
extension RegistryStore {
    public struct ModelListing: Sendable {
        public let id: String
        public let actions: [String]
        public let versions: Int
        public let createdAt: Date
    }

    public struct VersionListing: Sendable {
        public let version: String
        public let status: String
        public let createdAt: Date
    }

    public struct JobFilter: Sendable {
        public var modelId: String?
        public var status: JobStatus?
        /// Only jobs created at or after this instant.
        public var since: Date?
        public init(modelId: String? = nil, status: JobStatus? = nil, since: Date? = nil) {
            self.modelId = modelId
            self.status = status
            self.since = since
        }
    }

    public func models() throws -> [ModelListing] {
        try db.query("""
            SELECT m.id, m.actions::text AS actions, m.created_at,
                   (SELECT count(*) FROM model_versions v WHERE v.model_id = m.id) AS versions
            FROM models m ORDER BY m.id
            """).rows.map {
            ModelListing(id: try $0.string("id"), actions: parseWordArray(try $0.string("actions")),
                         versions: Int(try $0.int("versions")), createdAt: try $0.date("created_at"))
        }
    }

    /// Nil when there is no such model (an empty list means a model without versions).
    public func versions(modelId: String) throws -> [VersionListing]? {
        guard try !db.query("SELECT 1 FROM models WHERE id = $1", [modelId]).isEmpty else { return nil }
        return try db.query("""
            SELECT version, status, created_at FROM model_versions WHERE model_id = $1 ORDER BY created_at, version
            """, [modelId]).rows.map {
            VersionListing(version: try $0.string("version"), status: try $0.string("status"), createdAt: try $0.date("created_at"))
        }
    }

    /// Up to `limit` jobs after `cursor` (a job id from the previous page), in job-id order,
    /// and the cursor of the next page when there may be one.
    public func jobs(_ filter: JobFilter, after cursor: String?, limit: Int) throws -> (jobs: [Job], nextCursor: String?) {
        let jobs = try db.query("""
            SELECT \(Columns.jobWithoutInput), NULL::jsonb AS input FROM jobs
            WHERE ($1::text IS NULL OR job_id > $1)
              AND ($2::text IS NULL OR model_id = $2)
              AND ($3::text IS NULL OR status = $3)
              AND ($4::timestamptz IS NULL OR created_at >= $4)
            ORDER BY job_id LIMIT $5
            """, [cursor, filter.modelId, filter.status?.rawValue, filter.since, limit]).rows.map { try $0.job() }
        return (jobs, jobs.count == limit ? jobs.last?.id : nil)
    }
}
