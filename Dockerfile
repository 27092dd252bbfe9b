# syntax=docker/dockerfile:1
# One image recipe for every service: `docker build --build-arg PRODUCT=gateway .`
# (compose.yaml passes PRODUCT per service). The build stage uses the official Swift image;
# the runtime stage is Debian slim with only the shared libraries the static-stdlib binary
# still links dynamically (checked with ldd on a --static-swift-stdlib build of the gateway):
# libcurl (FoundationNetworking), libhiredis (RedisKit), zlib, libstdc++; plus CA certificates
# (GitHub, LLM APIs) and tzdata.
# Builder and runtime must be the same Debian release so glibc and libhiredis's soname match.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
ARG PRODUCT
RUN test -n "${PRODUCT}" || { echo "build with --build-arg PRODUCT=<executable product>" >&2; exit 1; }
# libhiredis-dev for RedisKit; libcurl4-openssl-dev because static Foundation links -lcurl
# (FoundationNetworking; without it the link fails with "cannot find -lcurl").
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The cache mount keeps .build between image builds (all products share it; SwiftPM's lock
# serialises parallel builds), so a rebuild compiles only what changed.
RUN --mount=type=cache,target=/src/.build \
    scripts/release-build --product "${PRODUCT}" \
 && bin="$(scripts/release-build --show-bin-path)" \
 && mkdir -p /out \
 && cp "$bin/${PRODUCT}" /out/ \
 && strip /out/"${PRODUCT}" \
 && find "$bin" -maxdepth 1 -name '*.resources' -exec cp -R {} /out/ \;

FROM ${RUNTIME_IMAGE}
ARG PRODUCT
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata libcurl4 libhiredis0.14 zlib1g libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /app/data && chown app:app /app/data
WORKDIR /app
COPY --from=build /out/ /app/
# A fixed entry point name, so one ENTRYPOINT serves every product; /app/<product> stays for
# the healthcheck (`/app/<product> --healthcheck`).
RUN ln -s "/app/${PRODUCT}" /app/service
USER app
# Services bind 127.0.0.1 by default; in a container they must listen on every interface.
ENV HOST=0.0.0.0
# SQLite files (used when DATABASE_URL is unset) live under /app/data: mount a volume there.
VOLUME ["/app/data"]
# Each binary checks its own /health (compose.yaml names /app/<product> explicitly).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/app/service", "--healthcheck"]
ENTRYPOINT ["/app/service"]
