import Foundation
import HTTPTypes
import Logging
import Metrics
import NIOHTTP1
import ServiceKit

/// What a flow did, as `POST /api/v1/create-pr` answers it.
public struct PRResult: Codable, Sendable, Equatable {
    public enum Operation: String, Codable, Sendable {
        case created, updated, unchanged, declined
        /// `dry_run`: nothing was sent to GitHub.
        case dryRun = "dry_run"
    }

    public struct RenderedFile: Codable, Sendable, Equatable {
        public let path: String
        public let content: String
    }

    public let operation: Operation
    public let service: String
    public let branch: String
    public let fingerprint: String
    public var prNumber: Int?
    public var prURL: String?
    /// Only for `dry_run`.
    public var files: [RenderedFile]?

    enum CodingKeys: String, CodingKey {
        case operation, service, branch, fingerprint, files
        case prNumber = "pr_number"
        case prURL = "pr_url"
    }
}

/// The idempotent flow that turns one announced service into one pull request.
///
/// One fixed branch per service (`auto/add-mcp-<name>`), one file written through the contents
/// API, one PR whose body carries a hidden ``PRMarker``. Every decision is made from what GitHub
/// answers (`state=all` lookups), so a lost database changes nothing; a closed, unmerged PR for the
/// same fingerprint is a "no" that the bot respects. Flows run one at a time for the repository.
public final class PRFlow: Sendable {
    let client: GitHubClient
    let template: ManifestTemplate
    let pathTemplate: ManifestPath
    let imageTemplate: String
    let store: any PRRecordStore
    let logger: Logger
    let lock = FlowLock()
    let facts = RepositoryFacts()

    public static let labels: [(name: String, color: String, description: String)] = [
        ("auto-generated", "ededed", "Opened by a bot"),
        ("mcp-infrastructure", "1d76db", "MCP server deployment proposed by pr-automation"),
    ]

    public init(client: GitHubClient, template: ManifestTemplate, pathTemplate: ManifestPath, imageTemplate: String, store: any PRRecordStore, logger: Logger) {
        self.client = client
        self.template = template
        self.pathTemplate = pathTemplate
        self.imageTemplate = imageTemplate
        self.store = store
        self.logger = logger
    }

    var repo: RepositoryName { client.settings.repository }
    var repoPath: String { "/repos/\(repo.owner)/\(repo.name)" }

    // MARK: - Entry point

    public func run(_ announcement: ServiceAnnouncement) async throws -> PRResult {
        let service = try announcement.validated()
        let path = try pathTemplate.render(name: service.name)
        let content = template.render(service, image: imageTemplate)
        let fingerprint = PRMarker.fingerprint(path: path, content: content)
        let branch = BranchName.forService(service.name)
        if announcement.dryRun {
            return PRResult(operation: .dryRun, service: service.name, branch: branch, fingerprint: fingerprint, files: [.init(path: path, content: content)])
        }
        let plan = Plan(service: service, path: path, content: content, fingerprint: fingerprint, branch: branch)
        let result = try await lock.withLock { try await self.apply(plan) }
        Counter(label: "pr_automation_flows_total", dimensions: [("operation", result.operation.rawValue)]).increment()
        logger.info("PR flow finished", metadata: ["service": "\(service.name)", "operation": "\(result.operation.rawValue)", "pr": "\(result.prNumber.map(String.init) ?? "-")"])
        return result
    }

    struct Plan: Sendable {
        let service: ValidatedAnnouncement
        let path: String
        let content: String
        let fingerprint: String
        let branch: String
        var marker: PRMarker { PRMarker(service: service.name, fingerprint: fingerprint) }
    }

    // MARK: - The flow

    func apply(_ plan: Plan) async throws -> PRResult {
        let base = try await baseBranch()
        guard plan.branch != base else {
            throw ServiceError(.conflict, "the service branch '\(plan.branch)' is the base branch; the bot never writes to the base branch")
        }
        let ours = try await pulls(branch: plan.branch, state: "all").filter { PRMarker.find(in: $0.body)?.service == plan.service.name }
        let open = ours.first(where: \.isOpen)
        if open == nil {
            if let declined = ours.first(where: { $0.isDeclined && PRMarker.find(in: $0.body)?.fingerprint == plan.fingerprint }) {
                await record(plan, pull: declined, state: .declined)
                return result(.declined, plan, pull: declined)
            }
            if try await file(plan.path, ref: base)?.text == plan.content {
                // Merged earlier (or added by hand): nothing to propose.
                let merged = ours.first { $0.mergedAt != nil && PRMarker.find(in: $0.body)?.fingerprint == plan.fingerprint }
                await record(plan, pull: merged, state: merged == nil ? .none : .merged)
                return result(.unchanged, plan, pull: merged)
            }
        }

        try await prepareBranch(plan.branch, base: base, keepExisting: open != nil)
        let committed = try await writeFile(plan)

        let title = "[Auto] Add MCP server: \(plan.service.name)"
        let body = Self.body(plan)
        var operation: PRResult.Operation
        var pull: GitHubPull
        if let open {
            pull = open
            if committed || open.body != body || open.title != title {
                pull = try await updatePull(open.number, title: title, body: body)
                operation = .updated
            } else {
                operation = .unchanged
            }
        } else {
            do {
                pull = try await client.json(.POST, "\(repoPath)/pulls", body: CreatePullBody(title: title, head: plan.branch, base: base, body: body, maintainerCanModify: true))
                operation = .created
            } catch let error as GitHubAPIError where error.status == 422 && error.message.contains("A pull request already exists") {
                // Someone (or a crashed run) opened it between our lookup and now: adopt it.
                guard let existing = try await pulls(branch: plan.branch, state: "open").first else { throw error }
                pull = try await updatePull(existing.number, title: title, body: body)
                operation = .updated
            }
        }
        if operation != .unchanged {
            try await addLabels(pull.number)
        }
        await record(plan, pull: pull, state: .open)
        return result(operation, plan, pull: pull)
    }

    // MARK: - Steps

    func baseBranch() async throws -> String {
        if let configured = client.settings.baseBranch { return configured }
        if let known = await facts.value { return known }
        do {
            let repository: GitHubRepository = try await client.json(.GET, repoPath)
            await facts.set(repository.defaultBranch)
            return repository.defaultBranch
        } catch let error as GitHubAPIError where error.status == 404 {
            throw FlowError.repositoryNotFound(repo)
        }
    }

    func pulls(branch: String, state: String) async throws -> [GitHubPull] {
        let found: [GitHubPull] = try await guardRepository {
            try await client.json(.GET, "\(repoPath)/pulls", query: [("head", "\(repo.owner):\(branch)"), ("state", state), ("per_page", "100")])
        }
        return found.sorted { $0.number > $1.number }
    }

    func refSHA(_ branch: String) async throws -> String? {
        do {
            let ref: GitHubRef = try await client.json(.GET, "\(repoPath)/git/ref/heads/\(Self.escapePath(branch))")
            return ref.object.sha
        } catch let error as GitHubAPIError where error.status == 404 {
            return nil
        }
    }

    /// Creates the branch from the base head; a branch left by a closed PR starts again from the base.
    func prepareBranch(_ branch: String, base: String, keepExisting: Bool) async throws {
        guard let baseSHA = try await refSHA(base) else { throw FlowError.baseBranchMissing(base, repo) }
        let current = try await refSHA(branch)
        if current == nil {
            do {
                try await client.send(.POST, "\(repoPath)/git/refs", body: CreateRefBody(ref: "refs/heads/\(branch)", sha: baseSHA))
            } catch let error as GitHubAPIError where error.status == 422 && error.message.contains("Reference already exists") {
                logger.debug("branch appeared meanwhile", metadata: ["branch": "\(branch)"])
            }
        } else if !keepExisting, current != baseSHA {
            try await client.send(.PATCH, "\(repoPath)/git/refs/heads/\(Self.escapePath(branch))", body: UpdateRefBody(sha: baseSHA, force: true))
        }
    }

    func file(_ path: String, ref: String) async throws -> GitHubContent? {
        do {
            let content: GitHubContent = try await client.json(.GET, "\(repoPath)/contents/\(Self.escapePath(path))", query: [("ref", ref)])
            guard content.type == "file" else { throw FlowError.pathNotAFile(path) }
            return content
        } catch let error as GitHubAPIError where error.status == 404 {
            return nil
        }
    }

    /// One commit when the content differs; none when it is already there. A stale sha (409) means
    /// the branch moved under us: read again and retry once.
    func writeFile(_ plan: Plan) async throws -> Bool {
        for attempt in 0..<2 {
            let current = try await file(plan.path, ref: plan.branch)
            if current?.text == plan.content { return false }
            let verb = current == nil ? "Add" : "Update"
            let body = PutContentBody(
                message: "\(verb) MCP server \(plan.service.name)\n\n\(plan.marker.comment)", content: Data(plan.content.utf8).base64EncodedString(),
                sha: current?.sha, branch: plan.branch)
            do {
                try await client.send(.PUT, "\(repoPath)/contents/\(Self.escapePath(plan.path))", body: body)
                return true
            } catch let error as GitHubAPIError where error.status == 409 && attempt == 0 {
                logger.info("stale file sha, reading again", metadata: ["path": "\(plan.path)"])
            } catch let error as GitHubAPIError where error.status == 422 {
                throw FlowError.pathRejected(plan.path, error.message)
            }
        }
        throw FlowError.conflict(plan.path)
    }

    func updatePull(_ number: Int, title: String, body: String) async throws -> GitHubPull {
        try await client.json(.PATCH, "\(repoPath)/pulls/\(number)", body: UpdatePullBody(title: title, body: body))
    }

    func addLabels(_ number: Int) async throws {
        for label in Self.labels where !(await facts.labelKnown(label.name)) {
            do {
                try await client.send(.GET, "\(repoPath)/labels/\(Self.escapePath(label.name))")
            } catch let error as GitHubAPIError where error.status == 404 {
                do {
                    try await client.send(.POST, "\(repoPath)/labels", body: CreateLabelBody(name: label.name, color: label.color, description: label.description))
                } catch let error as GitHubAPIError where error.status == 422 {
                    logger.debug("label exists already", metadata: ["label": "\(label.name)"])
                }
            }
            await facts.markLabel(label.name)
        }
        try await client.send(.POST, "\(repoPath)/issues/\(number)/labels", body: AddLabelsBody(labels: Self.labels.map(\.name)))
    }

    func guardRepository<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GitHubAPIError where error.status == 404 {
            throw FlowError.repositoryNotFound(repo)
        }
    }

    // MARK: - Records and results

    func record(_ plan: Plan, pull: GitHubPull?, state: PRRecord.State) async {
        let record = PRRecord(
            service: plan.service.name, fingerprint: plan.fingerprint, branch: plan.branch, path: plan.path,
            prNumber: pull?.number, url: pull?.htmlURL, state: state)
        do {
            try await store.save(record)
        } catch {
            // GitHub holds the truth; a failed record is rebuilt by the next recovery.
            logger.error("could not save the PR record", metadata: ["service": "\(plan.service.name)", "error": "\(error)"])
        }
    }

    func result(_ operation: PRResult.Operation, _ plan: Plan, pull: GitHubPull?) -> PRResult {
        PRResult(operation: operation, service: plan.service.name, branch: plan.branch, fingerprint: plan.fingerprint, prNumber: pull?.number, prURL: pull?.htmlURL)
    }

    static func body(_ plan: Plan) -> String {
        let service = plan.service
        var lines = [
            "pr-automation found a new MCP server and proposes its deployment manifest.",
            "",
            "| | |",
            "|---|---|",
            "| Name | `\(service.name)` |",
            "| Type | `\(service.type)` |",
            "| Endpoint | `\(service.endpoint)` |",
            "| Capabilities | \(service.capabilities.map { "`\($0)`" }.joined(separator: ", ")) |",
        ]
        if let description = service.description, !description.isEmpty {
            lines.append("| Description | \(markdownCell(description)) |")
        }
        lines += [
            "| Manifest | `\(plan.path)` |",
            "",
            "Review the manifest, then merge to deploy. Closing this pull request without merging declines this version: the bot will not reopen it unless the server's details change.",
            "",
            plan.marker.comment,
        ]
        return lines.joined(separator: "\n")
    }

    /// A description may not break the table or forge a marker.
    static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "|", with: "\\|")
    }

    /// Path segments as GitHub expects them: each escaped, slashes kept.
    static func escapePath(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#;%")
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }.joined(separator: "/")
    }
}

/// What the bot learnt about the repository once: its default branch and which labels exist.
actor RepositoryFacts {
    private(set) var value: String?
    private var labels: Set<String> = []

    func set(_ branch: String) { value = branch }
    func labelKnown(_ name: String) -> Bool { labels.contains(name) }
    func markLabel(_ name: String) { labels.insert(name) }
}

/// Why a flow stopped, in words that say what to fix.
public enum FlowError: Error, CustomStringConvertible {
    case repositoryNotFound(RepositoryName)
    case baseBranchMissing(String, RepositoryName)
    case pathNotAFile(String)
    case pathRejected(String, String)
    case conflict(String)

    public var description: String {
        switch self {
        case .repositoryNotFound(let repo):
            "repository \(repo) was not found, or the credentials cannot see it (check GITHUB_REPOSITORY and the token's repository access)"
        case .baseBranchMissing(let base, let repo):
            "base branch '\(base)' does not exist in \(repo) (check GITHUB_BASE_BRANCH)"
        case .pathNotAFile(let path):
            "'\(path)' exists in the repository but is not a file (check PR_PATH_TEMPLATE)"
        case .pathRejected(let path, let message):
            "GitHub refused to write '\(path)': \(message) (check PR_PATH_TEMPLATE)"
        case .conflict(let path):
            "'\(path)' kept changing while the bot wrote it; try again"
        }
    }
}
