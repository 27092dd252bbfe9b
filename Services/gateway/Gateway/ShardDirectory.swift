import Foundation

/// Where shards come from. Each source (the static list, the YAML file, the discovery feed)
/// replaces its own set; the directory merges them, first source wins on a name clash.
///
/// The discovery service feeds shards in through ``update(source:shards:)``, the same call the
/// YAML watcher uses, so a new source needs no change here.
public actor ShardDirectory {
    public static let staticSource = "env"
    public static let fileSource = "file"
    public static let discoverySource = "discovery"
    static let precedence = [staticSource, fileSource, discoverySource]

    private var bySource: [String: [ShardEndpoint]] = [:]
    private var observers: [@Sendable ([ShardEndpoint]) async -> Void] = []

    public init() {}

    public func onChange(_ observer: @escaping @Sendable ([ShardEndpoint]) async -> Void) {
        observers.append(observer)
    }

    /// Replaces everything `source` contributes.
    public func update(source: String, shards: [ShardEndpoint]) async {
        let before = merged
        bySource[source] = shards
        let after = merged
        guard before != after else { return }
        for observer in observers { await observer(after) }
    }

    public var merged: [ShardEndpoint] {
        var byName: [String: ShardEndpoint] = [:]
        let order = Self.precedence + bySource.keys.filter { !Self.precedence.contains($0) }.sorted()
        for source in order {
            for shard in bySource[source] ?? [] where byName[shard.name] == nil {
                byName[shard.name] = shard
            }
        }
        return byName.values.sorted { $0.name < $1.name }
    }
}
