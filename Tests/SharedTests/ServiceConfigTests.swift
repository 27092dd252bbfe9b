import ServiceKit
import Testing

@Suite struct ServiceConfigTests {
    @Test func readsTypedValuesWithDefaults() throws {
        let config = ServiceConfig(environment: ["PORT": "9200", "GATEWAY_PROBE_INTERVAL": "500ms", "LIST": "a, b,,c", "FLAG": "yes"])
        #expect(try config.int("PORT", default: 1) == 9200)
        #expect(try config.int("MISSING", default: 7) == 7)
        #expect(try config.seconds("GATEWAY_PROBE_INTERVAL", default: 15) == 0.5)
        #expect(try config.duration("GATEWAY_PROBE_INTERVAL", defaultSeconds: 15) == .milliseconds(500))
        #expect(try config.duration("NOT_SET_ANYWHERE", defaultSeconds: 1.5) == .milliseconds(1500))
        #expect(config.list("LIST") == ["a", "b", "c"])
        #expect(try config.bool("FLAG", default: false))
    }

    @Test func badValuesNameTheVariable() throws {
        let config = ServiceConfig(environment: ["PORT": "ninety", "LOG_LEVEL": "loud", "TIMEOUT": "soon"])
        #expect(throws: ConfigurationError.self) { try config.int("PORT", default: 1) }
        do {
            _ = try config.int("PORT", default: 1)
        } catch {
            #expect("\(error)".contains("PORT") && "\(error)".contains("ninety"))
        }
        #expect(throws: ConfigurationError.self) { try config.seconds("TIMEOUT", default: 1) }
        // Durations that would overflow the timers they become are refused, not a crash.
        for huge in ["1e30", "inf", "nan", "2e9s"] {
            #expect(throws: ConfigurationError.self) { try ServiceConfig(environment: ["T": huge]).duration("T", defaultSeconds: 1) }
        }
        #expect(try ServiceConfig(environment: ["T": "1e9"]).duration("T", defaultSeconds: 1) == .seconds(1_000_000_000))
        #expect(throws: ConfigurationError.self) { try ListenSettings(config: ServiceConfig(environment: ["PORT": "70000"]), defaultPort: 1) }
    }

    @Test func secretsComeFromFilesAndNeverFromErrors() throws {
        let path = FileManagerTemp.write("s3cret-value\n")
        let config = ServiceConfig(environment: ["API_KEY_FILE": path, "OTHER_FILE": "/nonexistent/file"])
        #expect(try config.secret("API_KEY") == "s3cret-value")
        do {
            _ = try config.secret("OTHER")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("OTHER_FILE"))
        }
    }
}

import Foundation

enum FileManagerTemp {
    static func write(_ text: String) -> String {
        let path = NSTemporaryDirectory() + "/svc-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}
