import Foundation
import MCP
import ShardKit

/// `validate_config`: the shard's strict checks on a snippet or on the managed files, Traefik's
/// current errors, and (with `TRAEFIK_VALIDATOR`) a throwaway Traefik's verdict.
enum ValidateConfigTool {
    struct FileCheck: Encodable, Sendable {
        let source: String
        let valid: Bool
        let problems: [String]
    }

    struct Report: Encodable, Sendable {
        let valid: Bool
        let checked: [FileCheck]
        let traefikErrors: [String]
        let traefikCounts: Overview.Section?
        let traefikAPIError: String?
        let validator: TraefikValidator.Verdict?
        let note: String
    }

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "validate_config",
            title: "Validate Traefik dynamic configuration",
            description: """
                Checks Traefik dynamic-configuration YAML without applying it: syntax, Go template braces, empty maps, \
                unknown keys in routers and services, unknown middleware types. With yaml, checks that snippet; without, \
                checks every file this shard manages. Also reports the errors Traefik currently shows (routers, services \
                and middlewares with errors) and, when a validator binary is configured, what a throwaway Traefik says.
                """,
            inputSchema: JSONSchema.object([
                "yaml": JSONSchema.string("A dynamic-configuration YAML snippet (http: routers/services/middlewares). Omit to check the managed files."),
            ]),
            annotations: .init(title: "Validate Traefik config", readOnlyHint: true, openWorldHint: false)
        ) { arguments in
            let snippet = try arguments.string("yaml")
            if let snippet, snippet.utf8.count > 1 << 20 { throw ToolInputError("'yaml' is larger than 1 MiB") }
            var checked: [FileCheck] = []
            if let snippet {
                let problems = DynamicConfigChecker.check(snippet)
                checked.append(FileCheck(source: "yaml argument", valid: problems.isEmpty, problems: problems))
            } else {
                for name in context.files.managedNames() {
                    let text = context.files.read(name) ?? ""
                    let problems = DynamicConfigChecker.check(text)
                    checked.append(FileCheck(source: context.files.path(for: name), valid: problems.isEmpty, problems: problems))
                }
            }
            var traefikErrors: [String] = []
            var counts: Overview.Section?
            var apiError: String?
            do {
                let raw = try await context.api.rawData()
                counts = try await context.api.overview().http
                for (name, router) in raw.routers.merging(raw.tcpRouters, uniquingKeysWith: { first, _ in first }).sorted(by: { $0.key < $1.key }) {
                    for error in router.error ?? [] { traefikErrors.append("router \(name) (\(router.status ?? "?")): \(error)") }
                }
                for (name, service) in raw.services.sorted(by: { $0.key < $1.key }) {
                    for error in service.error ?? [] { traefikErrors.append("service \(name) (\(service.status ?? "?")): \(error)") }
                }
                for (name, middleware) in raw.middlewares.sorted(by: { $0.key < $1.key }) {
                    for error in middleware.error ?? [] { traefikErrors.append("middleware \(name) (\(middleware.status ?? "?")): \(error)") }
                }
            } catch let error as TraefikAPIError {
                apiError = error.message
            }
            var verdict: TraefikValidator.Verdict?
            if let binary = context.settings.validatorPath {
                verdict = await TraefikValidator(binary: binary, dynamicDirectory: context.settings.dynamicDirectory).run(candidate: snippet)
            }
            let valid = checked.allSatisfy(\.valid) && (verdict?.valid ?? true)
            return try .json(Report(
                valid: valid, checked: checked, traefikErrors: traefikErrors, traefikCounts: counts, traefikAPIError: apiError, validator: verdict,
                note: verdict == nil
                    ? "Traefik reports YAML errors only in its log, never in the API. Set TRAEFIK_VALIDATOR to a Traefik binary to have a throwaway Traefik check the files too."
                    : "The validator ran a throwaway Traefik on a copy of the dynamic directory\(snippet == nil ? "" : " plus the snippet") and read its log."))
        }
    }
}
