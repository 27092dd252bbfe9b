import Foundation

/// The command-line flags every service binary answers before it starts serving:
///
/// - `--healthcheck`: GET its own `/health` on loopback, exit 0 or 1 (container health checks
///   need no curl in the image).
/// - `--print-settings`: print the declared settings as JSON and exit (feeds `.env.example`,
///   the docs and the compose consistency test from the code itself).
///
/// ```swift
/// if let code = await ServiceCommandLine.handle(declared: GatewaySettings.declared, port: settings.listen.port) { exit(code) }
/// ```
public enum ServiceCommandLine {
    public static func handle(declared: [SettingSpec], port: @autoclosure () -> Int, arguments: [String] = CommandLine.arguments) async -> Int32? {
        if arguments.dropFirst().contains("--print-settings") {
            print(settingsJSON(declared))
            return 0
        }
        if Healthcheck.requested(arguments) {
            return await Healthcheck.run(port: port())
        }
        return nil
    }

    public static func settingsJSON(_ declared: [SettingSpec]) -> String {
        let rows: [[String: Any]] = declared.map { spec in
            var row: [String: Any] = ["name": spec.name, "meaning": spec.meaning, "secret": spec.isSecret, "required": spec.isRequired]
            row["default"] = spec.defaultValue ?? NSNull()
            return row
        }
        let data = (try? JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
