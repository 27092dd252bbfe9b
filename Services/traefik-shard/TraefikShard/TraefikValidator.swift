import Foundation

/// Runs a real Traefik binary against a temporary copy of the dynamic directory (plus an
/// optional candidate file) and reads its log: Traefik has no `validate` command, and its file
/// provider reports parse errors only in the log.
struct TraefikValidator: Sendable {
    struct Verdict: Encodable, Sendable {
        let valid: Bool
        let errors: [String]
        let ran: Bool
    }

    let binary: String
    let dynamicDirectory: String
    /// How long to let the throwaway Traefik read the files.
    var runTime: Duration = .seconds(3)

    func run(candidate: String?) async -> Verdict {
        let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("traefik-validate-\(UUID().uuidString)")
        let copy = (work as NSString).appendingPathComponent("dynamic")
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: dynamicDirectory) {
                try FileManager.default.copyItem(atPath: dynamicDirectory, toPath: copy)
            } else {
                try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            }
            if let candidate {
                try Data(candidate.utf8).write(to: URL(fileURLWithPath: (copy as NSString).appendingPathComponent("zz-candidate.yml")))
            }
            let staticConfig = """
                global: {checkNewVersion: false, sendAnonymousUsage: false}
                log: {level: ERROR, noColor: true}
                entryPoints:
                  web: {address: "127.0.0.1:0"}
                  websecure: {address: "127.0.0.1:0"}
                providers:
                  file: {directory: "\(copy)", watch: false}
                """
            let configPath = (work as NSString).appendingPathComponent("traefik.yml")
            try Data(staticConfig.utf8).write(to: URL(fileURLWithPath: configPath))
            let logPath = (work as NSString).appendingPathComponent("traefik.log")
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--configFile=\(configPath)"]
            process.standardOutput = log
            process.standardError = log
            try process.run()
            let deadline = ContinuousClock.now + runTime
            while ContinuousClock.now < deadline, process.isRunning {
                try? await Task.sleep(for: .milliseconds(200))
                if (try? String(contentsOfFile: logPath, encoding: .utf8))?.contains("Cannot start the provider") == true { break }
            }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? log.close()
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            let errors = output.split(separator: "\n").map(String.init).filter { $0.contains(" ERR ") || $0.contains(" FTL ") }
                .map { $0.replacingOccurrences(of: copy + "/", with: "") }
            let broken = errors.contains { $0.contains("Cannot start the provider") || $0.contains("Error while building configuration") }
            return Verdict(valid: !broken, errors: errors, ran: true)
        } catch {
            return Verdict(valid: false, errors: ["the validator could not run \(binary): \(error)"], ran: false)
        }
    }
}
