import Foundation

// MARK: - What the bot reads from GitHub (only the fields it uses)

struct GitHubRepository: Decodable, Sendable {
    let defaultBranch: String
    enum CodingKeys: String, CodingKey { case defaultBranch = "default_branch" }
}

struct GitHubRef: Decodable, Sendable {
    struct Object: Decodable, Sendable { let sha: String }
    let ref: String
    let object: Object
}

struct GitHubContent: Decodable, Sendable {
    let type: String
    let sha: String
    let content: String?
    let encoding: String?

    /// The file's text (the contents API sends base64 with line breaks).
    var text: String? {
        guard type == "file", encoding == "base64", let content else { return nil }
        let joined = content.split(whereSeparator: \.isNewline).joined()
        return Data(base64Encoded: joined).map { String(decoding: $0, as: UTF8.self) }
    }
}

struct GitHubPull: Decodable, Sendable {
    struct Head: Decodable, Sendable { let ref: String }
    let number: Int
    let htmlURL: String
    let state: String
    let title: String
    let body: String?
    let mergedAt: Date?
    let head: Head

    enum CodingKeys: String, CodingKey {
        case number, state, title, body, head
        case htmlURL = "html_url"
        case mergedAt = "merged_at"
    }

    var isOpen: Bool { state == "open" }
    var isDeclined: Bool { state == "closed" && mergedAt == nil }
}

// MARK: - What the bot sends (field names exactly as GitHub's route table has them)

struct CreateRefBody: Encodable, Sendable {
    let ref: String
    let sha: String
}

struct UpdateRefBody: Encodable, Sendable {
    let sha: String
    let force: Bool
}

struct PutContentBody: Encodable, Sendable {
    let message: String
    let content: String
    /// Required when the file exists: the blob sha being replaced.
    let sha: String?
    let branch: String
}

struct CreatePullBody: Encodable, Sendable {
    let title: String
    let head: String
    let base: String
    let body: String
    let maintainerCanModify: Bool
    enum CodingKeys: String, CodingKey {
        case title, head, base, body
        case maintainerCanModify = "maintainer_can_modify"
    }
}

struct UpdatePullBody: Encodable, Sendable {
    let title: String
    let body: String
}

struct CreateLabelBody: Encodable, Sendable {
    let name: String
    let color: String
    let description: String
}

struct AddLabelsBody: Encodable, Sendable {
    let labels: [String]
}
