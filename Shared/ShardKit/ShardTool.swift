import MCP

/// Something that answers a tool call. Conform a type when a tool has state or dependencies;
/// use ``ShardTool/init(name:title:description:inputSchema:annotations:handler:)`` with a
/// closure for the rest.
public protocol ToolHandler: Sendable {
    func call(_ arguments: ToolArguments) async throws -> CallTool.Result
}

/// A tool handler made from a closure.
public struct ClosureToolHandler: ToolHandler {
    let body: @Sendable (ToolArguments) async throws -> CallTool.Result

    public init(_ body: @escaping @Sendable (ToolArguments) async throws -> CallTool.Result) {
        self.body = body
    }

    public func call(_ arguments: ToolArguments) async throws -> CallTool.Result {
        try await body(arguments)
    }
}

/// One tool of a shard: its MCP definition and its handler.
public struct ShardTool: Sendable {
    public let definition: Tool
    public let handler: any ToolHandler

    public init(definition: Tool, handler: any ToolHandler) {
        self.definition = definition
        self.handler = handler
    }

    public init(
        name: String, title: String? = nil, description: String, inputSchema: Value,
        annotations: Tool.Annotations, handler: @escaping @Sendable (ToolArguments) async throws -> CallTool.Result
    ) {
        self.definition = Tool(name: name, title: title, description: description, inputSchema: inputSchema, annotations: annotations)
        self.handler = ClosureToolHandler(handler)
    }

    public var name: String { definition.name }
}

extension CallTool.Result {
    /// A successful result with one text block.
    public static func text(_ text: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)])
    }

    /// A successful result carrying JSON both as text (for clients that read text) and as
    /// `structuredContent` (for clients that read structure).
    public static func json(_ value: some Encodable & Sendable) throws -> CallTool.Result {
        let data = try ToolJSON.encoder.encode(value)
        let structured = try ToolJSON.decoder.decode(Value.self, from: data)
        return try CallTool.Result(content: [.text(text: String(decoding: data, as: UTF8.self), annotations: nil, _meta: nil)], structuredContent: structured)
    }

    /// A tool failure the model should read and act on (`isError: true`).
    public static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }

    /// The text of every text block, joined.
    public var text: String {
        content.compactMap { block in
            if case .text(let text, _, _) = block { return text }
            return nil
        }.joined(separator: "\n")
    }
}

enum ToolJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
    static let decoder = JSONDecoder()
}

import Foundation
