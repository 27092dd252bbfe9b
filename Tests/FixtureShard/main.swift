import Foundation
import Hummingbird
import Logging
import MCP
import ServiceKit
import ShardKit
import Synchronization

// A shard with predictable tools, aggregated by the gateway tests and benchmarks.
// `FIXTURE_NAME` sets its name (so two copies can collide on purpose).

let config = ServiceConfig()
/// How many `slow` calls were cancelled by the client (cancellation must reach the shard).
let cancelledCalls = Atomic<Int>(0)
let name = config.string("FIXTURE_NAME", default: "fixture")

let tools: [ShardTool] = [
    ShardTool(
        name: "echo", description: "Returns the given text unchanged.",
        inputSchema: JSONSchema.object(["text": JSONSchema.string("Text to echo back.")], required: ["text"]),
        annotations: .init(readOnlyHint: true)
    ) { arguments in
        .text(try arguments.requiredString("text"))
    },
    ShardTool(
        name: "add", description: "Adds two numbers and returns the sum as structured content.",
        inputSchema: JSONSchema.object(["a": JSONSchema.number("First number."), "b": JSONSchema.number("Second number.")], required: ["a", "b"]),
        annotations: .init(readOnlyHint: true)
    ) { arguments in
        struct Sum: Encodable, Sendable { let sum: Double }
        return try .json(Sum(sum: (try arguments.double("a") ?? 0) + (try arguments.double("b") ?? 0)))
    },
    ShardTool(
        name: "slow", description: "Waits the given number of milliseconds, then answers.",
        inputSchema: JSONSchema.object(["ms": JSONSchema.integer("Milliseconds to wait.", minimum: 0, maximum: 600_000)], required: ["ms"]),
        annotations: .init(readOnlyHint: true)
    ) { arguments in
        let ms = try arguments.int("ms", in: 0...600_000) ?? 0
        do {
            try await Task.sleep(for: .milliseconds(ms))
        } catch {
            cancelledCalls.add(1, ordering: .relaxed)
            throw error
        }
        return .text("waited \(ms) ms")
    },
    ShardTool(
        name: "cancellations", description: "How many slow calls were cancelled so far.",
        inputSchema: JSONSchema.object([:]), annotations: .init(readOnlyHint: true)
    ) { _ in
        .text(String(cancelledCalls.load(ordering: .relaxed)))
    },
    ShardTool(
        name: "fail", description: "Always fails with a tool error (isError).",
        inputSchema: JSONSchema.object([:]),
        annotations: .init(readOnlyHint: false, destructiveHint: true)
    ) { _ in
        .failure("this tool always fails")
    },
]

let definition = ShardDefinition(name: name, version: SuiteVersion.current, description: "Test fixture shard", tools: tools)
do {
    let settings = try ShardSettings(config: config, defaultPort: 9199)
    if let code = await ServiceCommandLine.handle(declared: ShardSettings.declared(defaultPort: 9199), port: settings.listen.port) { exit(code) }
    _ = try LoggingSetup.bootstrap(config: config)
    let app = ShardApplication.build(definition: definition, settings: settings, logger: Logger(label: name))
    try await app.runService()
} catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("fixture-shard: \(error)\n".utf8))
    exit(2)
}
