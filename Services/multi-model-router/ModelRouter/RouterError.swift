import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// An error that reaches the client in OpenAI's shape, `{"error":{"message","type","param","code"}}`,
/// with a real status and `Retry-After` where it helps.
public struct RouterError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    public static func invalidRequest(_ message: String, param: String? = nil) -> RouterError {
        RouterError(.badRequest, message, type: "invalid_request_error", param: param)
    }

    public var description: String { "\(status.code) \(message)" }

    public var json: JSONValue {
        [
            "error": [
                "message": .string(message), "type": .string(type),
                "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null,
            ]
        ]
    }

    /// The client went away before the answer (its request was cancelled); nobody reads this.
    static let clientGone = RouterError(.init(code: 499, reasonPhrase: "Client Closed Request"), "the client closed the connection", type: "api_error", code: "client_gone")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        reply.response
    }

    var reply: ChatReply {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return ChatReply(status: status, headers: headers, body: ByteBuffer(bytes: json.encoded()))
    }
}
