# Sourced by the benchmark scripts: `shipped_binaries DIR PRODUCT...` builds each product as the
# images ship it (Dockerfile: scripts/release-build, stripped) and copies it to DIR, so
# latency and memory are measured on what runs on Waldorf. Its own build folder,
# .build-release-static (git-ignored), keeps rebuilds incremental. Static Foundation links libcurl:
# needs libcurl4-openssl-dev (as in the Dockerfile's build stage).
shipped_binaries() {
  local dir=$1 product bin
  shift
  if [ ! -e /usr/include/x86_64-linux-gnu/curl/curl.h ] && [ ! -e /usr/include/curl/curl.h ]; then
    echo "scripts/bench: static builds link libcurl; install libcurl4-openssl-dev (apt-get install libcurl4-openssl-dev)" >&2
    return 1
  fi
  for product in "$@"; do
    scripts/release-build --scratch-path .build-release-static --product "$product" >/dev/null
  done
  bin=$(scripts/release-build --scratch-path .build-release-static --show-bin-path)
  for product in "$@"; do
    cp "$bin/$product" "$dir/$product"
    strip "$dir/$product"
  done
}
