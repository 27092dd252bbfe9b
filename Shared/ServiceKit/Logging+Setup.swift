import Foundation
import Logging

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// Process-wide logging bootstrap. Call once, from `main` only: `LoggingSystem` may be bootstrapped
/// once per process, and tests build applications many times.
public enum LoggingSetup {
    public static func bootstrap(config: ServiceConfig) throws -> (level: Logger.Level, format: LogFormat) {
        let level = try config.choice("LOG_LEVEL", default: Logger.Level.info)
        let format = try config.choice("LOG_FORMAT", default: LogFormat.text)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch format {
            case .json: JSONLogHandler(label: label)
            case .text: StreamLogHandler.standardError(label: label)
            }
            handler.logLevel = level
            return handler
        }
        return (level, format)
    }
}
