import Foundation

/// What the bot did for one service: the row `GET /api/v1/prs` lists.
public struct PRRecord: Codable, Sendable, Equatable {
    /// `open`, `merged`, `declined` (closed without merging) or `none` (the content is already on the base branch).
    public enum State: String, Codable, Sendable {
        case open, merged, declined, none
    }

    public var service: String
    public var fingerprint: String
    public var branch: String
    public var path: String
    public var prNumber: Int?
    public var url: String?
    public var state: State
    public var createdAt: Date
    public var updatedAt: Date

    public init(service: String, fingerprint: String, branch: String, path: String, prNumber: Int?, url: String?, state: State, createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.service = service
        self.fingerprint = fingerprint
        self.branch = branch
        self.path = path
        self.prNumber = prNumber
        self.url = url
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case service, fingerprint, branch, path, url, state
        case prNumber = "pr_number"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// Where records live. GitHub stays the source of truth (the PR marker); the store is the
/// bot's memory for `GET /api/v1/prs` and can be rebuilt from GitHub.
public protocol PRRecordStore: Sendable {
    /// Inserts or replaces the record of `record.service`, keeping its first `createdAt`.
    func save(_ record: PRRecord) async throws
    func all() async throws -> [PRRecord]
    func find(service: String) async throws -> PRRecord?
}

/// Records in memory, for tests and for running without any database.
public actor InMemoryPRRecordStore: PRRecordStore {
    private var records: [String: PRRecord] = [:]

    public init() {}

    public func save(_ record: PRRecord) async throws {
        var record = record
        if let existing = records[record.service] { record.createdAt = existing.createdAt }
        records[record.service] = record
    }

    public func all() async throws -> [PRRecord] {
        records.values.sorted { $0.service < $1.service }
    }

    public func find(service: String) async throws -> PRRecord? {
        records[service]
    }
}
