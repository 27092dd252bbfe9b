// TraefikShard: see its issue.
