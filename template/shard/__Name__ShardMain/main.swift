import ServiceKit
import ShardKit
import {{Name}}Shard

await ServiceMain.run("{{service}}", declared: {{Name}}Settings.declared, settings: {{Name}}Settings.init(config:), port: \.shard.listen.port) {
    settings, logger in {{Name}}Shard.build(settings: settings, logger: logger)
}
