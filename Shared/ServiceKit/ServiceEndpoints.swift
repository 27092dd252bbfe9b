import Foundation
import Hummingbird
import MCPShared
import NIOCore

/// Who a service is, for `/health` and logs.
public struct ServiceIdentity: Sendable {
    public let name: String
    public let version: String
    public let startedAt: Date

    public init(name: String, version: String = SuiteVersion.current, startedAt: Date = Date()) {
        self.name = name
        self.version = version
        self.startedAt = startedAt
    }

    public var uptimeSeconds: Double { Date().timeIntervalSince(startedAt) }
}

public enum SuiteVersion {
    public static let current = "0.1.0"
}

extension Router {
    /// Adds `GET /health` (JSON; 503 when the service is down) and `GET /metrics` (Prometheus text).
    public func addServiceEndpoints(health: @escaping @Sendable () async -> HealthReport) {
        get("/health") { _, _ -> Response in
            let report = await health()
            return try JSONResponse.make(report, status: report.status == .down ? .serviceUnavailable : .ok)
        }
        get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: MetricsRegistry.exposition())))
        }
    }
}

/// JSON responses with the suite's encoder settings (snake_case keys come from each type's
/// `CodingKeys`; dates as ISO 8601).
public enum JSONResponse {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(value)
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// An error that reaches the HTTP client as what it is: a status and a JSON body
/// `{"error": {"message": ..., "type": ...}}` that a person can read.
public struct ServiceError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public let type: String

    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? Self.defaultType(status)
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(ErrorBody(error: .init(message: message, type: type)), status: status)
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable { let message: String; let type: String }
        let error: Detail
    }

    static func defaultType(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400, 413, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        default: status.code >= 500 ? "server_error" : "invalid_request_error"
        }
    }
}

extension Request {
    /// The whole body, refusing more than `limit` bytes with a clear 413.
    public func collectBody(upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ServiceError(.contentTooLarge, "request body is larger than \(limit) bytes")
        } catch is NIOTooManyBytesError {
            // What `collect(upTo:)` actually throws; Hummingbird would answer it with an empty 413.
            throw ServiceError(.contentTooLarge, "request body is larger than \(limit) bytes")
        }
    }

    /// Decodes a JSON body, answering 400 with the decoder's reason on bad input.
    public func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let buffer = try await collectBody(upTo: limit)
        do {
            return try JSONResponse.decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw ServiceError(.badRequest, "request body is not valid JSON for this endpoint: \(error.plainDescription)")
        }
    }
}

extension Error {
    /// A one-line description without Swift type noise, fit for an error message.
    public var plainDescription: String {
        switch self {
        case let error as DecodingError:
            switch error {
            case .keyNotFound(let key, let context):
                return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return "wrong type at '\(path)': \(context.debugDescription)"
            case .dataCorrupted(let context):
                return context.debugDescription
            @unknown default:
                return "\(error)"
            }
        case let error as any LocalizedError where error.errorDescription != nil:
            return error.errorDescription!
        default:
            return "\(self)"
        }
    }
}
