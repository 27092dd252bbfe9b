"""Router overhead vs LiteLLM's proxy, side by side in one run against the same local fake
OpenAI upstream: latency p50/p99 at concurrency 1 and 64 (overhead = via proxy minus direct),
streaming time-to-first-token delta, requests/s, RSS. Prints a Markdown table.

    router_bench.py FAKE_URL ROUTER_URL ROUTER_PID [LITELLM_URL LITELLM_PID]
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time

import httpx2

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there, how are you today? Please answer briefly."}], "max_tokens": 16}
N = {1: 400, 64: 3000}
ROUNDS = 5
# Both proxies get the same master key (LiteLLM refuses to start without a strong one).
SELF_REPORTED: dict[int, list[float]] = {}
KEY = "sk-bench-0123456789abcdef0123456789abcdef"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def run(url: str, concurrency: int, n: int, stream: bool = False) -> tuple[list[float], float]:
    latencies: list[float] = []
    body = {**BODY, "stream": stream}
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=30, limits=limits, headers={"Authorization": "Bearer " + KEY}) as client:
        queue = iter(range(n))

        async def worker():
            for _ in queue:
                t0 = time.perf_counter()
                if stream:
                    first = None
                    async with client.stream("POST", url + "/v1/chat/completions", json=body) as r:
                        async for line in r.aiter_lines():
                            compact = line.replace(" ", "")
                            if first is None and compact.startswith("data:") and '"content":"' in compact and '"content":""' not in compact:
                                first = time.perf_counter() - t0
                    assert first is not None, "no content in stream"
                    latencies.append(first)
                else:
                    r = await client.post(url + "/v1/chat/completions", json=body)
                    r.raise_for_status()
                    latencies.append(time.perf_counter() - t0)
                    if "x-router-overhead-ms" in r.headers:
                        SELF_REPORTED.setdefault(concurrency, []).append(float(r.headers["x-router-overhead-ms"]))

        # Warm up connections and caches.
        for _ in range(20):
            await client.post(url + "/v1/chat/completions", json=BODY)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return [x * 1000 for x in latencies], n / wall


async def main() -> None:
    fake, router, router_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    litellm = sys.argv[4] if len(sys.argv) > 4 else None
    litellm_pid = int(sys.argv[5]) if len(sys.argv) > 5 else None
    # FLOOR_URL: Tests/Benchmarks/ProxyFloor in front of the same upstream, a bare Hummingbird +
    # AsyncHTTPClient forwarder (it buffers bodies, so it is left out of the streaming row).
    floor = os.environ.get("FLOOR_URL")
    # NGINX_URL: nginx in front of the same upstream (scripts/bench/nginx-forwarder.sh), the
    # cost of the hop itself on this machine apart from any Swift stack.
    nginx = os.environ.get("NGINX_URL")
    # NIO_URL: Tests/Benchmarks/NIOFloor, the same hop on bare SwiftNIO.
    nio = os.environ.get("NIO_URL")
    # HTTP1_URL: ProxyFloor forwarding with ServiceKit's HTTP1Client instead of AsyncHTTPClient.
    http1 = os.environ.get("HTTP1_URL")
    # PIPELINE_URL: ProxyFloor answering in a channel handler with HTTP1Client's event-loop API (no
    # Swift task), what the router's lane does for non-streamed requests, without the router's work.
    pipeline = os.environ.get("PIPELINE_URL")
    targets = [("direct", fake), ("router", router)] + ([("bare forwarder", floor)] if floor else []) + ([("bare HTTP1Client forwarder", http1)] if http1 else []) + ([("channel pipeline forwarder", pipeline)] if pipeline else []) + ([("bare SwiftNIO forwarder", nio)] if nio else []) + ([("nginx", nginx)] if nginx else []) + ([("litellm", litellm)] if litellm else [])
    rss_idle = {"router": rss_mb(router_pid), **({"litellm": rss_mb(litellm_pid)} if litellm_pid else {})}
    rows = []
    results: dict = {}
    # Interleaved rounds (direct, router, forwarder, litellm, direct, ...): a slow spell of this
    # shared machine lands on every column alike instead of on one of them.
    for c in (1, 64):
        samples: dict[str, list[float]] = {name: [] for name, _ in targets}
        seconds: dict[str, float] = {name: 0.0 for name, _ in targets}
        for _ in range(ROUNDS):
            for name, url in targets:
                lat, rps = await run(url, c, N[c] // ROUNDS)
                samples[name] += lat
                seconds[name] += len(lat) / rps
        for name, _ in targets:
            lat = samples[name]
            results[(name, c)] = (statistics.median(lat), pct(lat, 0.99), len(lat) / seconds[name])
    ttft = {}
    for name, url in targets:
        if name in ("bare forwarder", "bare HTTP1Client forwarder", "channel pipeline forwarder"):  # they buffer whole bodies
            continue
        lat, _ = await run(url, 1, 300, stream=True)
        ttft[name] = statistics.median(lat)
    rss_after = {"router": rss_mb(router_pid), **({"litellm": rss_mb(litellm_pid)} if litellm_pid else {})}

    print("| concurrency | target | p50 ms | p99 ms | req/s | overhead p50 ms | overhead p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for c in (1, 64):
        d50, d99, _ = results[("direct", c)]
        for name, _ in targets:
            p50, p99, rps = results[(name, c)]
            over = "" if name == "direct" else f"{p50 - d50:.3f} | {p99 - d99:.3f}"
            print(f"| {c} | {name} | {p50:.3f} | {p99:.3f} | {rps:.0f} | {over or '- | -'} |")
    print()
    print("Streaming time to first content token, concurrency 1 (median): " + ", ".join(
        f"{name} {ttft[name]:.3f} ms" + ("" if name == "direct" else f" (+{ttft[name] - ttft['direct']:.3f})") for name in ttft))
    print()
    print("Router's own x-router-overhead-ms (inside the process, upstream time excluded): " + ", ".join(
        f"concurrency {c}: p50 {statistics.median(v):.3f} ms, p99 {pct(v, 0.99):.3f} ms" for c, v in sorted(SELF_REPORTED.items())))
    print()
    print("RSS: " + ", ".join(f"{k} idle {rss_idle[k]:.0f} MB, after {rss_after[k]:.0f} MB" for k in rss_idle))
    print(json.dumps({"results": {f"{k[0]}@{k[1]}": v for k, v in results.items()}, "ttft": ttft}), file=sys.stderr)


asyncio.run(main())
