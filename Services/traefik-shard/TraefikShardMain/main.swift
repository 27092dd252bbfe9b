import ServiceKit
import ShardKit
import TraefikShard

await ServiceMain.run("traefik-shard", declared: TraefikSettings.declared, settings: TraefikSettings.init(config:), port: \.shard.listen.port) {
    settings, logger in TraefikShard.build(settings: settings, logger: logger)
}
