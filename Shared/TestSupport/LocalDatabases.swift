import Foundation

/// Real Redis and PostgreSQL servers for Swift tests, started on free loopback ports in temp
/// dirs (the Python twin is `Tests/integration/pg_redis.py`). PostgreSQL refuses root, so it runs
/// through `runuser -u postgres`.
///
/// ```swift
/// let redis = try await LocalRedis.start()
/// defer { redis.stop() }
/// let client = try RedisClient(url: redis.url)
/// ```
public final class LocalRedis: LocalServer, @unchecked Sendable {
    public let port: Int
    public let password = "redis-test-password"
    public let directory: URL
    private var process: SpawnedProcess?

    public var url: String { "redis://:\(password)@127.0.0.1:\(port)/0" }

    private init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    public static func start() async throws -> LocalRedis {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try await startOnAFreePort { LocalRedis(port: $0, directory: directory) }
    }

    /// Starts (again) on the same port and data directory.
    public func start() async throws {
        process = try LocalProcess.launch(
            "/usr/bin/redis-server",
            ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--requirepass", password,
             "--appendonly", "yes", "--save", ""], log: directory.appendingPathComponent("redis.log"))
        try await LocalProcess.waitForPort(port, timeout: 15, process: process)
    }

    public func stop() {
        process?.stop()
        process = nil
    }
}

/// A throwaway PostgreSQL 15 cluster; ``url`` is a `DATABASE_URL`.
public final class LocalPostgres: LocalServer, @unchecked Sendable {
    public let port: Int
    public let directory: URL
    public let password = LocalPostgres.testPassword
    static let testPassword = "mcp-test-password"
    private var process: SpawnedProcess?
    static let bin = "/usr/lib/postgresql/15/bin"

    public var url: String { "postgres://mcp:\(password)@127.0.0.1:\(port)/postgres" }

    private init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    public static func start() async throws -> LocalPostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let passwordFile = directory.appendingPathComponent("pw")
        try testPassword.write(to: passwordFile, atomically: true, encoding: .utf8)
        try LocalProcess.run("/bin/chown", ["-R", "postgres:postgres", directory.path])
        try LocalProcess.run(
            "/usr/sbin/runuser",
            ["-u", "postgres", "--", "\(bin)/initdb", "-D", directory.appendingPathComponent("data").path, "-U", "mcp",
             "--pwfile=\(passwordFile.path)", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"])
        return try await startOnAFreePort { LocalPostgres(port: $0, directory: directory) }
    }

    public func start() async throws {
        process = try LocalProcess.launch(
            "/usr/sbin/runuser",
            ["-u", "postgres", "--", "\(Self.bin)/postgres", "-D", directory.appendingPathComponent("data").path,
             "-p", "\(port)", "-h", "127.0.0.1", "-k", directory.path, "-c", "fsync=off"],
            log: directory.appendingPathComponent("postgres.log"))
        try await LocalProcess.waitForPort(port, timeout: 30, process: process)
        // The port opens a moment before logins are accepted.
        let deadline = Date().addingTimeInterval(30)
        while (try? LocalProcess.run("\(Self.bin)/pg_isready", ["-q", "-h", "127.0.0.1", "-p", "\(port)"])) == nil {
            guard Date() < deadline else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "PostgreSQL not ready on \(port)"]) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A fast shutdown (SIGTERM would wait for every client to disconnect).
    public func stop() {
        guard let process, process.isRunning else { return }
        try? LocalProcess.run("/usr/sbin/runuser", ["-u", "postgres", "--", "\(Self.bin)/pg_ctl", "stop", "-m", "fast", "-D", directory.appendingPathComponent("data").path])
        process.waitForExit(timeout: 20)
        self.process = nil
    }
}

/// A server process the tests start on a port of their own.
protocol LocalServer: AnyObject {
    func start() async throws
    func stop()
}

extension LocalServer {
    /// `make(port)` started on a free port; a port found free can still be taken by another
    /// process before the server binds it, so up to three ports are tried.
    static func startOnAFreePort(_ make: (Int) -> Self) async throws -> Self {
        var attempt = 1
        while true {
            let server = make(try FreePort.next())
            do {
                try await server.start()
                return server
            } catch where attempt < 3 {
                server.stop()
                attempt += 1
            }
        }
    }
}

/// A child process started with `posix_spawn`. Foundation's `Process` passes on the test
/// runner's blocked signal mask, so the child would ignore SIGTERM (and PostgreSQL pg_ctl's
/// SIGINT); here the child gets an empty mask and default handlers.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    private var exited = false

    init(pid: pid_t) {
        self.pid = pid
    }

    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// Sends `signal` and waits up to `timeout` seconds, then kills.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 20) {
        guard isRunning else { return }
        kill(pid, signal)
        waitForExit(timeout: timeout)
    }

    func waitForExit(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                exited = true
                return
            }
            usleep(20_000)
        }
    }
}

enum LocalProcess {
    static func spawn(_ executable: String, _ arguments: [String], log: String?) throws -> SpawnedProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = log ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "cannot start \(executable): error \(result)"])
        }
        return SpawnedProcess(pid: pid)
    }

    static func launch(_ executable: String, _ arguments: [String], log: URL) throws -> SpawnedProcess {
        try spawn(executable, arguments, log: log.path)
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = try spawn(executable, arguments, log: nil)
        var status: Int32 = 0
        waitpid(process.pid, &status, 0)
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments.first ?? "") failed (status \(status))"])
        }
    }

    /// Waits until `port` accepts connections; fails at once when `process` has exited (then the
    /// port may belong to someone else, and "it answers" would be a lie).
    static func waitForPort(_ port: Int, timeout: Double, process: SpawnedProcess?) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let process, !process.isRunning {
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server for port \(port) exited during startup"])
            }
            if canConnect(port) {
                // A server that could not bind exits at once, and then what answered is somebody
                // else's (a parallel test's) server on the same port: make sure ours is still up.
                try await Task.sleep(for: .milliseconds(100))
                if let process, !process.isRunning {
                    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server for port \(port) exited during startup (port taken?)"])
                }
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "nothing listens on port \(port) after \(timeout)s"])
    }

    static func canConnect(_ port: Int) -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return false }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
