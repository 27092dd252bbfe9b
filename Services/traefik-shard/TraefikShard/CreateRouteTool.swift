import Foundation
import MCP
import ShardKit
import Yams

/// `create_route`: write one router + service under `mcp-managed/`, confirm it through the API,
/// roll back when Traefik does not accept it.
enum CreateRouteTool {
    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "create_route",
            title: "Create or update a Traefik route",
            description: """
                Publishes a backend through Traefik: writes a router and a service named mcp-<name> into the shard's own \
                folder, makes Traefik reload, and confirms through Traefik's API that the router is enabled. If Traefik \
                reports an error (for example a middleware that does not exist) the change is rolled back and Traefik's \
                own error text is returned. Refuses names or hosts that another router already uses. Give either host or rule. \
                Use dry_run to see the YAML and the checks without writing anything.
                """,
            inputSchema: JSONSchema.object([
                "name": JSONSchema.string("Short route name: lowercase letters, digits and '-', at most 40 characters (e.g. grafana). Traefik objects are called mcp-<name>."),
                "host": JSONSchema.string("Host name to route, e.g. grafana.example.com. Builds the rule Host(`<host>`)."),
                "rule": JSONSchema.string("A full Traefik rule instead of host, e.g. Host(`app.example.com`) && PathPrefix(`/api`)."),
                "backends": JSONSchema.stringArray("Backend URL(s) Traefik forwards to, e.g. [\"http://grafana:3000\"]."),
                "entrypoints": JSONSchema.stringArray("Traefik entry points to listen on, e.g. [\"websecure\"]. Omit for all entry points."),
                "tls": JSONSchema.boolean("Serve the route over TLS (implied when cert_resolver is given).", default: false),
                "cert_resolver": JSONSchema.string("Certificate resolver from Traefik's static configuration, e.g. letsencrypt."),
                "middlewares": JSONSchema.stringArray("Middlewares to apply in order, e.g. [\"secure-headers@file\"]. Use name@provider for other providers."),
                "health_check_path": JSONSchema.string("Path Traefik polls on each backend, e.g. /health. Without it Traefik reports every backend as UP."),
                "overwrite": JSONSchema.boolean("Replace an existing route of this name that the shard created.", default: false),
                "dry_run": JSONSchema.boolean("Only validate and show the YAML; write nothing.", default: false),
            ], required: ["name", "backends"]),
            annotations: .init(title: "Create Traefik route", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false)
        ) { arguments in
            let request = try parse(arguments)
            let overwrite = try arguments.bool("overwrite", default: false)
            let dryRun = try arguments.bool("dry_run", default: false)
            return try await context.changes.run { try await create(request, overwrite: overwrite, dryRun: dryRun, context) }
        }
    }

    static func parse(_ arguments: ToolArguments) throws -> RouteRequest {
        let name = try RouteName.validate(try arguments.requiredString("name"))
        let rule: String
        switch (try arguments.string("host"), try arguments.string("rule")) {
        case (let host?, nil): rule = "Host(`\(try RouteInput.host(host))`)"
        case (nil, let given?): rule = try RouteInput.rule(given)
        case (.some, .some): throw ToolInputError("give either 'host' or 'rule', not both")
        case (nil, nil): throw ToolInputError("'host' or 'rule' is required")
        }
        let backends = try arguments.strings("backends").map(RouteInput.backend)
        guard !backends.isEmpty else { throw ToolInputError("'backends' needs at least one URL, e.g. [\"http://grafana:3000\"]") }
        let resolver = try arguments.string("cert_resolver").map { try RouteInput.identifier($0, "cert_resolver") }
        return RouteRequest(
            name: name, rule: rule, backends: backends,
            entryPoints: try arguments.strings("entrypoints").map { try RouteInput.identifier($0, "entrypoints") },
            tls: try arguments.bool("tls", default: false) || resolver != nil,
            certResolver: resolver,
            middlewares: try arguments.strings("middlewares").map { try RouteInput.identifier($0, "middlewares") },
            healthCheckPath: try arguments.string("health_check_path").map(RouteInput.path))
    }

    struct DryRun: Encodable, Sendable {
        let dryRun = true
        let router: String
        let file: String
        let yaml: String
        let checks: [String]
        let warnings: [String]
    }

    struct Created: Encodable, Sendable {
        let result: String
        let router: String
        let status: String
        let file: String
        let rule: String
        let entryPoints: [String]
        let warnings: [String]
        let yaml: String
    }

    static func create(_ request: RouteRequest, overwrite: Bool, dryRun: Bool, _ context: TraefikContext) async throws -> CallTool.Result {
        let yaml = try ManagedRouteFile(request).render()
        let files = context.files
        let previous = files.read(request.name)
        if let previous, !ManagedRouteFile.isOwned(previous) {
            return .failure("\(files.path(for: request.name)) exists but was not created by this shard (no ownership marker); refusing to touch it.")
        }
        if previous != nil, !overwrite, !dryRun {
            return .failure("Route '\(request.name)' already exists (\(files.path(for: request.name))). Pass overwrite: true to replace it, or choose another name.")
        }
        let raw = try await context.api.rawData()
        let conflicts = findConflicts(request, raw: raw, definedInFiles: files.definedNames())
        guard conflicts.isEmpty else {
            return .failure("Refused, nothing was written: " + conflicts.joined(separator: "; "))
        }
        let warnings = findWarnings(request, raw: raw)
        if dryRun {
            let checks = [
                "name '\(request.name)' is valid; Traefik objects will be \(request.objectName)",
                "YAML rendered and decoded back strictly (no unknown keys, empty maps or template braces)",
                "no router, service or middleware named \(request.objectName) in Traefik or in the directory's files",
                "no other router uses the rule \(request.rule)",
            ]
            return try .json(DryRun(router: request.fullName, file: files.path(for: request.name), yaml: yaml, checks: checks, warnings: warnings))
        }

        try files.write(request.name, yaml)
        try files.triggerReload()
        let api = context.api
        let outcome = await context.poll { () -> (TraefikRouter, TraefikService?)? in
            let raw = try await api.rawData()
            guard let router = raw.routers[request.fullName], isServing(request, router, raw.services[request.fullName]) else { return nil }
            return (router, raw.services[request.fullName])
        }
        let problems = outcome.value.map { ($0.0.error ?? []) + ($0.1?.error ?? []) } ?? []
        if let (router, _) = outcome.value, router.status != "disabled", problems.isEmpty {
            return try .json(Created(
                result: previous == nil ? "created" : "updated", router: request.fullName, status: router.status ?? "enabled",
                file: files.path(for: request.name), rule: request.rule, entryPoints: router.entryPoints ?? [], warnings: warnings, yaml: yaml))
        }
        let reason: String
        if let (router, _) = outcome.value {
            reason = "Traefik rejected router \(request.fullName): " + (problems.isEmpty ? "status \(router.status ?? "unknown")" : problems.joined(separator: "; "))
        } else {
            reason = "Traefik did not show router \(request.fullName) within \(TraefikAPI.seconds(context.settings.applyTimeout)) (TRAEFIK_APPLY_TIMEOUT)"
                + (outcome.lastError.map { "; last API error: \($0)" } ?? "; it may have rejected the file (see Traefik's log) or not reloaded yet")
        }
        let rollback = await rollBack(request, previous: previous, context)
        return .failure("\(reason). \(rollback)")
    }

    /// Restores the previous file (or removes the new one), triggers a reload and says whether
    /// Traefik confirmed it.
    static func rollBack(_ request: RouteRequest, previous: String?, _ context: TraefikContext) async -> String {
        do {
            if let previous { try context.files.write(request.name, previous) } else { try context.files.remove(request.name) }
            try context.files.triggerReload()
        } catch {
            return "Rolling back FAILED: \(error). Fix \(context.files.path(for: request.name)) by hand."
        }
        let api = context.api
        let previousRule = previous.flatMap { try? YAMLRouteReader.rule(in: $0, router: request.objectName) }
        let confirmed = await context.poll { () -> Bool? in
            let router = try await api.httpRouter(request.fullName)
            if let previousRule { return router?.rule == previousRule && router?.status != "disabled" ? true : nil }
            return router == nil ? true : nil
        }
        let action = previous == nil ? "the new file was removed" : "the previous file was restored"
        return confirmed.value == true
            ? "The change was rolled back: \(action) and Traefik confirmed it serves what it served before."
            : "The change was rolled back (\(action)), but Traefik has not confirmed it yet; check list_routes."
    }

    /// True when Traefik's runtime router and service are the ones in the new file (an update
    /// keeps the old router visible until Traefik reloads).
    static func isServing(_ request: RouteRequest, _ router: TraefikRouter, _ service: TraefikService?) -> Bool {
        let middlewares = request.middlewares.map { $0.contains("@") ? $0 : $0 + "@file" }
        let servers = (service?.loadBalancer?.servers ?? []).compactMap(\.url)
        return router.rule == request.rule
            && (router.middlewares ?? []) == middlewares
            && (request.entryPoints.isEmpty || Set(router.entryPoints ?? []) == Set(request.entryPoints))
            && (router.tls != nil) == request.tls
            && servers == request.backends
    }

    static func findConflicts(_ request: RouteRequest, raw: RawData, definedInFiles: [String: String]) -> [String] {
        var conflicts: [String] = []
        let ownFile = ManagedFiles.folderName + "/" + request.name + ".yml"
        for fullName in raw.allNames.sorted() {
            let (name, provider) = split(fullName)
            guard name == request.objectName else { continue }
            if provider == "file", definedInFiles[name] == ownFile { continue }
            conflicts.append("Traefik already has an object named \(fullName) (provider \(provider)) that this shard does not manage")
        }
        if let file = definedInFiles[request.objectName], file != ownFile, !conflicts.contains(where: { $0.contains("@file") }) {
            conflicts.append("\(request.objectName) is already defined in \(file)")
        }
        let rule = normalized(request.rule)
        for (fullName, router) in raw.routers.sorted(by: { $0.key < $1.key }) where fullName != request.fullName {
            if normalized(router.rule ?? "") == rule {
                conflicts.append("router \(fullName) (provider \(split(fullName).provider)) already routes \(request.rule); a duplicate would shadow it. Change that router, or use a different host or rule")
            }
        }
        return conflicts
    }

    static func findWarnings(_ request: RouteRequest, raw: RawData) -> [String] {
        var warnings: [String] = []
        for middleware in request.middlewares {
            let full = middleware.contains("@") ? middleware : middleware + "@file"
            if raw.middlewares[full] == nil { warnings.append("middleware \(full) is not known to Traefik right now; Traefik will disable the router if it is still missing") }
        }
        if request.healthCheckPath == nil { warnings.append("no health_check_path: Traefik will report the backends as UP even when they are down") }
        return warnings
    }

    static func split(_ fullName: String) -> (name: String, provider: String) {
        guard let at = fullName.lastIndex(of: "@") else { return (fullName, "") }
        return (String(fullName[..<at]), String(fullName[fullName.index(after: at)...]))
    }

    static func normalized(_ rule: String) -> String {
        rule.lowercased().filter { !$0.isWhitespace }
    }
}

/// Reads a router's rule back from a managed file (for rollback confirmation).
enum YAMLRouteReader {
    static func rule(in text: String, router: String) throws -> String? {
        try YAMLDecoder().decode(ManagedRouteFile.self, from: text).http.routers[router]?.rule
    }
}
