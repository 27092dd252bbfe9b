import Foundation
import MCP
import ServiceKit

/// A shard's `tools/call` result as the shard wrote it, and the request that asks for it.
///
/// The gateway passes a call's arguments and result through as JSON bytes instead of decoding
/// them into the SDK's `Value`: its Codable decoding tries every JSON type in turn and runs a
/// regular expression on every string, which was the largest cost of a call through the gateway
/// (perf: a fifth of the gateway's CPU time). Only the session era, whose SDK `Server` wants
/// `CallTool.Result`, decodes (`decoded()`).
struct ShardToolResult: Sendable {
    /// The result object's JSON.
    let json: Data
    /// The result's `isError`: the tool ran and reported a failure.
    let isError: Bool

    init(json: Data, isError: Bool) {
        self.json = json
        self.isError = isError
    }

    /// Throws the JSON-RPC error the shard answered with.
    init(_ response: JSONRPCResponse) throws {
        let (json, isError) = try response.resultJSON()
        self.init(json: json, isError: isError)
    }

    func decoded() throws -> CallTool.Result {
        try JSONDecoder().decode(CallTool.Result.self, from: json)
    }

    /// `{"jsonrpc":"2.0","id":…,"method":"tools/call","params":{"name":…,"arguments":…,"_meta":…}}`
    /// with the arguments' bytes spliced in unchanged.
    static func request(id: String, tool: String, arguments: Data?, meta: Metadata?) throws -> Data {
        try request(id: id, encodedTool: encoder.encode(tool), arguments: arguments, meta: meta)
    }

    /// The same with the tool's name already JSON (`ShardRoute.encodedName`, encoded once per
    /// catalog rebuild: `JSONEncoder` was a few percent of a fast-lane call). `id` is one of the
    /// gateway's own (`gw-…`): plain ASCII, nothing to escape.
    static func request(id: String, encodedTool: Data, arguments: Data?, meta: Metadata?) throws -> Data {
        var body = Data(#"{"jsonrpc":"2.0","id":""#.utf8)
        body.append(Data(id.utf8))
        body.append(Data(#"","method":"tools/call","params":{"name":"#.utf8))
        body.append(encodedTool)
        if let arguments {
            body.append(Data(#","arguments":"#.utf8))
            body.append(arguments)
        }
        if let meta {
            body.append(Data(#","_meta":"#.utf8))
            body.append(try encoder.encode(meta))
        }
        body.append(Data("}}".utf8))
        return body
    }

    /// `bytes` when they are a JSON object (tool arguments from a REST body), else nil.
    static func argumentsObject(_ bytes: Data) -> Data? {
        if case .object? = try? JSONValue.parse(bytes) { bytes } else { nil }
    }

    /// The bytes of tool arguments that arrived as SDK values (the session era).
    static func arguments(_ values: [String: Value]?) throws -> Data? {
        try values.map { try encoder.encode($0) }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return encoder
    }()
}
