import ModelRouter
import ServiceKit

// Swift tasks stay on the default executor. NIO's
// `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor` ran here until
// 2026-12-02, but it finds Swift's global-executor hook with `dlsym`, and in the shipped binary
// (Swift runtime linked statically) that hook is a local symbol the linker will not export: the call
// returned false, so only the dynamically linked debug builds the tests run ever used NIO's loops.
// Tests now run on the executor production runs on (docs/BENCHMARKS.md, "Multi-model router").
await ServiceMain.run("multi-model-router", declared: RouterSettings.declared, settings: { try RouterSettings(config: $0) }, port: \.listen.port) {
    settings, logger in try await RouterApplication.build(settings: settings, logger: logger)
}
