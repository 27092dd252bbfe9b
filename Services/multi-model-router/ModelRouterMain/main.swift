import ModelRouter
import NIOCore
import NIOPosix
import ServiceKit

// Swift tasks run on NIO's event loops: each request crosses between the server, AsyncHTTPClient
// and the handler several times, and on the same threads those hand-offs skip a wake-up. Measured
// A/B in one session: router p50 1.24 → 1.10 ms at concurrency 1 (docs/BENCHMARKS.md). Safe here
// because nothing in the router blocks a thread: SQLite runs on sqlite-nio's thread pool, Redis on
// RedisKit's own queue. Must run before any task is created.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

await ServiceMain.run("multi-model-router", declared: RouterSettings.declared, settings: { try RouterSettings(config: $0) }, port: \.listen.port) {
    settings, logger in try await RouterApplication.build(settings: settings, logger: logger)
}
