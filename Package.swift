// swift-tools-version: 6.2
import PackageDescription

// Every target: Swift 6 language mode, strict concurrency, and the two upcoming features
// Hummingbird itself enables.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTesting: Target.Dependency = .product(name: "HummingbirdTesting", package: "hummingbird")
let mcp: Target.Dependency = .product(name: "MCP", package: "swift-sdk")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let postgres: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
let sqlite: Target.Dependency = .product(name: "SQLiteNIO", package: "sqlite-nio")
let jwt: Target.Dependency = .product(name: "JWTKit", package: "jwt-kit")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
]
/// What every service library needs from Shared.
let serviceBase: [Target.Dependency] = ["ServiceKit", "MCPShared", mcp, hummingbird, asyncHTTPClient, logging, metrics, serviceLifecycle] + nio

/// The services' release builds (the images, the benchmarks) link with the toolchain's lld and:
/// - pack relative relocations (DT_RELR; glibc 2.36, Debian bookworm, reads them): otherwise the
///   loader reads a 3.3 MB relocation table at every start, and it stays resident;
/// - lay out first the functions a running service uses (Services/link-order.txt, written by
///   scripts/link-order/generate; scripts/release-build compiles one section per function): the
///   kernel maps code in 64 KB blocks around each page touched, and the few megabytes in use
///   were spread over 30 MB of code (SwiftPM does not track the file: a changed one needs a relink);
/// - export no symbols dynamically (the Swift driver exports all 42,000): the loader searched that
///   table for every symbol of libcurl's dependencies, and its pages stayed resident.
/// Gateway idle RSS 41.7 → 38.2 MB with the first, → 28 to 31 MB with the others (docs/BENCHMARKS.md).
let linkOrderFile = Context.packageDirectory + "/Services/link-order.txt"
let serviceLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
        "-Xlinker", "--symbol-ordering-file=\(linkOrderFile)", "-Xlinker", "--no-warn-symbol-ordering",
        "-Xlinker", "--no-export-dynamic",
    ], .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "homelab-mcp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["GatewayMain"]),
        .executable(name: "traefik-shard", targets: ["TraefikShardMain"]),
        .executable(name: "discovery", targets: ["DiscoveryMain"]),
        .executable(name: "pr-automation", targets: ["PRAutomationMain"]),
        .executable(name: "multi-model-router", targets: ["ModelRouterMain"]),
        // scripts/new-shard adds shard products above this line.
        .executable(name: "fixture-shard", targets: ["FixtureShard"]),
        .executable(name: "gateway-bench", targets: ["GatewayBench"]),
        .executable(name: "proxy-floor", targets: ["ProxyFloor"]),
        .executable(name: "nio-floor", targets: ["NIOFloor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // MARK: Shared
        // The light protocol module: wire types every service shares (MCP and Foundation only).
        .target(name: "MCPShared", dependencies: [mcp], path: "Shared/MCPShared", swiftSettings: swiftSettings),
        // The service kit: HTTP app, config, logging, metrics, health, MCP server bridge and client transport.
        .target(
            name: "ServiceKit",
            dependencies: [
                "MCPShared", mcp, hummingbird, asyncHTTPClient, logging, metrics, serviceLifecycle,
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ] + nio,
            path: "Shared/ServiceKit", swiftSettings: swiftSettings),
        // The shard kit: a shard is a list of tools; the kit serves them over MCP with /health and /manifest.
        .target(name: "ShardKit", dependencies: serviceBase, path: "Shared/ShardKit", swiftSettings: swiftSettings),
        // hiredis, from Debian's libhiredis-dev.
        .systemLibrary(name: "CHiredis", path: "Shared/CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        // Redis on hiredis: commands, pub/sub, for discovery, gateway and router.
        .target(name: "RedisKit", dependencies: ["CHiredis", logging, serviceLifecycle] + nio, path: "Shared/RedisKit", swiftSettings: swiftSettings),
        // Storage: PostgreSQL when DATABASE_URL is set, SQLite otherwise.
        .target(name: "StorageKit", dependencies: ["ServiceKit", postgres, sqlite, logging, serviceLifecycle] + nio, path: "Shared/StorageKit", swiftSettings: swiftSettings),
        // Helpers the tests share: free ports, child processes, temp dirs.
        .target(name: "TestSupport", dependencies: ["ServiceKit", mcp, asyncHTTPClient, logging] + nio, path: "Shared/TestSupport", swiftSettings: swiftSettings),

        // MARK: Services (a library with all logic + a thin executable each)
        .target(name: "Gateway", dependencies: serviceBase + [yams, "RedisKit", crypto], path: "Services/gateway/Gateway", swiftSettings: swiftSettings),
        .executableTarget(name: "GatewayMain", dependencies: ["Gateway", "ServiceKit", hummingbird, logging], path: "Services/gateway/GatewayMain", swiftSettings: swiftSettings, linkerSettings: serviceLinking),

        .target(name: "TraefikShard", dependencies: serviceBase + ["ShardKit", yams], path: "Services/traefik-shard/TraefikShard", swiftSettings: swiftSettings),
        .executableTarget(name: "TraefikShardMain", dependencies: ["TraefikShard", "ShardKit", "ServiceKit"], path: "Services/traefik-shard/TraefikShardMain", swiftSettings: swiftSettings, linkerSettings: serviceLinking),

        .target(name: "Discovery", dependencies: serviceBase + [yams, "RedisKit", "StorageKit"], path: "Services/discovery/Discovery", swiftSettings: swiftSettings),
        .executableTarget(name: "DiscoveryMain", dependencies: ["Discovery", "ServiceKit", hummingbird, logging], path: "Services/discovery/DiscoveryMain", swiftSettings: swiftSettings, linkerSettings: serviceLinking),

        .target(name: "PRAutomation", dependencies: serviceBase + [yams, "StorageKit", jwt, crypto], path: "Services/pr-automation/PRAutomation", swiftSettings: swiftSettings),
        .executableTarget(name: "PRAutomationMain", dependencies: ["PRAutomation", "ServiceKit", hummingbird, logging], path: "Services/pr-automation/PRAutomationMain", swiftSettings: swiftSettings, linkerSettings: serviceLinking),

        .target(name: "ModelRouter", dependencies: serviceBase + [yams, "RedisKit", "StorageKit"], path: "Services/multi-model-router/ModelRouter", swiftSettings: swiftSettings),
        .executableTarget(name: "ModelRouterMain", dependencies: ["ModelRouter", "ServiceKit", hummingbird, logging] + nio, path: "Services/multi-model-router/ModelRouterMain", swiftSettings: swiftSettings, linkerSettings: serviceLinking),

        // scripts/new-shard adds shard targets above this line.

        // MARK: Test fixtures and tests
        // A small Swift shard with predictable tools (echo, add, slow, fail) that the gateway tests aggregate.
        .executableTarget(name: "FixtureShard", dependencies: ["ShardKit", "ServiceKit", mcp, hummingbird, logging], path: "Tests/FixtureShard", swiftSettings: swiftSettings),
        // The load generator behind scripts/bench/gateway (not a test: benchmarks never run in CI).
        .executableTarget(name: "GatewayBench", dependencies: [asyncHTTPClient] + nio, path: "Tests/Benchmarks/GatewayBench", swiftSettings: swiftSettings),
        .executableTarget(name: "NIOFloor", dependencies: nio, path: "Tests/Benchmarks/NIOFloor", swiftSettings: swiftSettings),
        .executableTarget(name: "ProxyFloor", dependencies: ["ServiceKit", asyncHTTPClient, hummingbird] + nio, path: "Tests/Benchmarks/ProxyFloor", swiftSettings: swiftSettings),
        .testTarget(name: "SharedTests", dependencies: ["MCPShared", "ServiceKit", "ShardKit", "TestSupport", mcp, hummingbird, hummingbirdTesting, asyncHTTPClient] + nio, path: "Tests/SharedTests", swiftSettings: swiftSettings),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "ServiceKit", "ShardKit", "TestSupport", mcp, hummingbird, hummingbirdTesting, asyncHTTPClient] + nio, path: "Tests/GatewayTests", swiftSettings: swiftSettings),
        .testTarget(name: "TraefikShardTests", dependencies: ["TraefikShard", "ShardKit", "ServiceKit", "TestSupport", mcp, hummingbird, hummingbirdTesting, yams] + nio, path: "Tests/TraefikShardTests", swiftSettings: swiftSettings),
        .testTarget(name: "DiscoveryTests", dependencies: ["Discovery", "RedisKit", "StorageKit", "ServiceKit", "TestSupport", mcp, hummingbird, hummingbirdTesting] + nio, path: "Tests/DiscoveryTests", swiftSettings: swiftSettings),
        .testTarget(name: "PRAutomationTests", dependencies: ["PRAutomation", "StorageKit", "ServiceKit", "TestSupport", hummingbird, hummingbirdTesting, jwt] + nio, path: "Tests/PRAutomationTests", swiftSettings: swiftSettings),
        .testTarget(name: "ModelRouterTests", dependencies: ["ModelRouter", "RedisKit", "StorageKit", "ServiceKit", "TestSupport", hummingbird, hummingbirdTesting, serviceLifecycle] + nio, path: "Tests/ModelRouterTests", swiftSettings: swiftSettings),
        // scripts/new-shard adds shard test targets above this line.
    ]
)
