import Foundation
import Hummingbird
import ServiceKit

/// `POST /api/v1/create-pr` (also the target of discovery's "new server" webhook) and `GET /api/v1/prs`.
struct PRAutomationAPI {
    let flow: PRFlow
    let store: any PRRecordStore
    let maxBodyBytes: Int

    struct PRList: Encodable {
        let prs: [PRRecord]
    }

    func addRoutes(to router: Router<some Hummingbird.RequestContext>) {
        router.post("/api/v1/create-pr") { request, _ -> Response in
            let announcement = try await request.decodeJSON(ServiceAnnouncement.self, limit: maxBodyBytes)
            do {
                let result = try await flow.run(announcement)
                return try JSONResponse.make(result, status: result.operation == .created ? .created : .ok)
            } catch {
                throw Self.serviceError(error)
            }
        }
        router.get("/api/v1/prs") { _, _ -> Response in
            let records: [PRRecord]
            do {
                records = try await store.all()
            } catch {
                // GitHub still holds every PR (the markers); only the bot's list is unavailable.
                throw ServiceError(.serviceUnavailable, "the PR record database is unavailable: \(error)")
            }
            return try JSONResponse.make(PRList(prs: records))
        }
    }

    /// GitHub's refusals become errors that say what to fix; none of them carries a credential.
    static func serviceError(_ error: any Error) -> any Error {
        switch error {
        case let error as ServiceError:
            return error
        case let error as FlowError:
            if case .conflict = error { return ServiceError(.conflict, error.description) }
            return ServiceError(.badGateway, error.description, type: "github_error")
        case let error as GitHubAPIError:
            let message: String = switch error.kind {
            case .unauthorized:
                "GitHub rejected the credentials (401 \(error.message)): check GITHUB_TOKEN, or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID"
            case .forbidden:
                "GitHub refused \(error.method) \(error.path) (403 \(error.message)): the credentials need Contents, Pull requests and Issues read/write on the repository"
            case .notFound:
                "GitHub has no \(error.path) (404 \(error.message)): check GITHUB_REPOSITORY, GITHUB_BASE_BRANCH and the token's repository access"
            case .unprocessable:
                "GitHub refused \(error.method) \(error.path) as invalid (422 \(error.message))"
            default:
                error.description
            }
            let status: HTTPResponse.Status = error.kind == .rateLimited ? .serviceUnavailable : .badGateway
            return ServiceError(status, message, type: "github_error")
        default:
            return error
        }
    }
}
