import Foundation
import MCP

/// An OpenAPI tool server per profile, in the shape Open WebUI and mcpo use: one `POST` operation
/// per tool, `operationId` = tool name, the tool's input schema (with `$ref`/`$defs` inlined, since
/// mcpo and several model APIs reject references) as the request body.
enum OpenAPIFacade {
    static func document(for snapshot: CatalogSnapshot, profile: GatewayProfile) -> [String: Any] {
        var paths: [String: Any] = [:]
        for tool in snapshot.tools {
            let schema = SchemaInliner.inline(tool.inputSchema)
            var operation: [String: Any] = [
                "operationId": tool.name,
                "summary": tool.title ?? tool.name,
                "description": tool.description ?? tool.name,
                "requestBody": ["required": true, "content": ["application/json": ["schema": schema]]],
                "responses": responses,
            ]
            if !profile.tokens.isEmpty { operation["security"] = [["bearerAuth": [String]()]] }
            paths["/tools/\(tool.name)"] = ["post": operation]
        }
        var document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Homelab MCP tools (\(profile.name))",
                "version": "1.0.0",
                "description": "Tools aggregated by the homelab MCP gateway, one operation per tool.",
            ],
            "servers": [["url": profile.name == GatewayProfile.defaultName ? "/v/default" : "/v/\(profile.name)"]],
            "paths": paths,
            "components": [
                "schemas": ["Error": errorSchema],
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer"]],
            ],
        ]
        if !profile.tokens.isEmpty { document["security"] = [["bearerAuth": [String]()]] }
        return document
    }

    static var errorSchema: [String: Any] { [
        "type": "object",
        "properties": ["detail": ["type": "string"]],
        "required": ["detail"],
    ] }

    static var responses: [String: Any] {
        func error(_ description: String) -> [String: Any] {
            ["description": description, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        }
        return [
            "200": ["description": "The tool's result: its structured content, or {\"result\": text}.", "content": ["application/json": ["schema": [String: Any]()]]],
            "400": error("The body is not a JSON object of arguments."),
            "401": error("Missing or wrong bearer token."),
            "404": error("No such tool in this profile."),
            "413": error("The body is too large."),
            "422": error("The tool ran and reported an error (isError), or rejected its arguments."),
            "502": error("The shard behind the tool is unavailable."),
            "504": error("The tool did not answer in time."),
        ]
    }

    /// The tool result as Open WebUI's OpenAPI path expects a plain JSON body.
    static func body(for result: CallTool.Result) throws -> Data {
        if let structured = result.structuredContent {
            return try JSONEncoder().encode(structured)
        }
        return try JSONSerialization.data(withJSONObject: ["result": result.textContent])
    }
}

extension CallTool.Result {
    var textContent: String {
        content.compactMap { block -> String? in
            switch block {
            case .text(let text, _, _): return text
            default: return nil
            }
        }.joined(separator: "\n")
    }
}

/// Replaces local `$ref`s (`#/$defs/X`, `#/definitions/X`) with what they point to and drops the
/// definitions. A recursive schema is cut at a fixed depth with a plain object.
enum SchemaInliner {
    static func inline(_ schema: Value) -> Any {
        let plain = toPlain(schema)
        guard let root = plain as? [String: Any] else { return plain }
        let definitions = (root["$defs"] as? [String: Any] ?? [:]).merging(root["definitions"] as? [String: Any] ?? [:]) { first, _ in first }
        return resolve(root, definitions: definitions, depth: 0)
    }

    private static func resolve(_ node: Any, definitions: [String: Any], depth: Int) -> Any {
        if let array = node as? [Any] { return array.map { resolve($0, definitions: definitions, depth: depth) } }
        guard var object = node as? [String: Any] else { return node }
        object["$defs"] = nil
        object["definitions"] = nil
        if let reference = object["$ref"] as? String {
            let name = reference.split(separator: "/").last.map(String.init) ?? ""
            object["$ref"] = nil
            guard depth < 8, let target = definitions[name] else {
                return object.merging(["type": "object"]) { current, _ in current }
            }
            let resolved = resolve(target, definitions: definitions, depth: depth + 1)
            guard let resolvedObject = resolved as? [String: Any] else { return resolved }
            return resolvedObject.merging(object) { _, sibling in sibling }
        }
        return object.mapValues { resolve($0, definitions: definitions, depth: depth) }
    }

    static func toPlain(_ value: Value) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .int(let number): return number
        case .double(let number): return number
        case .string(let text): return text
        case .data(let mimeType, let data): return "data:\(mimeType ?? "application/octet-stream");base64,\(data.base64EncodedString())"
        case .array(let values): return values.map(toPlain)
        case .object(let object): return object.mapValues(toPlain)
        }
    }
}
