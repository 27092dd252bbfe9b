"""Router overhead vs LiteLLM's proxy, side by side in one run against the same local fake
OpenAI upstream: latency p50/p99 at concurrency 1 and 64 (overhead = via proxy minus direct), and
at concurrency 64 again with the upstream taking 100 ms per answer (model `gpt-4o-slow`: 64 requests
in flight without saturating the cores), streaming time-to-first-token delta, requests/s, RSS.
Prints a Markdown table.

    router_bench.py FAKE_URL ROUTER_URL ROUTER_PID [LITELLM_URL LITELLM_PID]
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time

import httpx2

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there, how are you today? Please answer briefly."}], "max_tokens": 16}
# (label, concurrency, model, requests): the slow model's answers take the fake upstream 100 ms.
LOADS = [("1", 1, "gpt-4o", 400), ("64", 64, "gpt-4o", 3000), ("64, upstream 100 ms", 64, "gpt-4o-slow", 3000)]
ROUNDS = 5
# Both proxies get the same master key (LiteLLM refuses to start without a strong one).
SELF_REPORTED: dict[str, list[float]] = {}
KEY = "sk-bench-0123456789abcdef0123456789abcdef"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU a process has used so far: far steadier per request than wall-clock
    latency on a shared 2-core machine, and what queueing at saturation is made of."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(") ", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


class RawConnection:
    """One keep-alive HTTP/1.1 connection sending POSTs: tens of microseconds of Python per request
    where httpx spends most of a millisecond, so with 64 requests in flight the client's own
    queueing stays small next to what is measured."""

    reconnects = 0

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {KEY}\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()

    @classmethod
    async def open(cls, url: str) -> "RawConnection":
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        connection = cls(host, int(port))
        await connection.connect()
        return connection

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, body: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.TimeoutError):
            # The server ended the keep-alive connection without saying so: once more on a new
            # one, as any HTTP client would.
            RawConnection.reconnects += 1
            self.writer.close()
            await self.connect()
            self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if b":" in line:
                name, value = line.split(b":", 1)
                headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            data = await self.reader.readexactly(int(headers[b"content-length"]))
        else:
            data = b""
            while True:  # chunked
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        if headers.get(b"connection", b"").lower() == b"close":
            # Said so (nginx after 1000 requests on a connection): a new one for the next request.
            self.writer.close()
            await self.connect()
        return status, headers, data

    def close(self) -> None:
        self.writer.close()


async def run(url: str, concurrency: int, n: int, stream: bool = False, model: str = "gpt-4o") -> tuple[list[float], float]:
    latencies: list[float] = []
    body = {**BODY, "model": model, "stream": stream}
    if not stream:
        return await run_raw(url, concurrency, n, body)
    # Streams: httpx, which reads the events as they come.
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=30, limits=limits, headers={"Authorization": "Bearer " + KEY}) as client:
        queue = iter(range(n))

        async def worker():
            for _ in queue:
                t0 = time.perf_counter()
                first = None
                async with client.stream("POST", url + "/v1/chat/completions", json=body) as r:
                    async for line in r.aiter_lines():
                        compact = line.replace(" ", "")
                        if first is None and compact.startswith("data:") and '"content":"' in compact and '"content":""' not in compact:
                            first = time.perf_counter() - t0
                assert first is not None, "no content in stream"
                latencies.append(first)

        # Warm up connections and caches.
        for _ in range(20):
            await client.post(url + "/v1/chat/completions", json=BODY)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return [x * 1000 for x in latencies], n / wall


async def run_raw(url: str, concurrency: int, n: int, body: dict) -> tuple[list[float], float]:
    """Non-streamed requests over `concurrency` raw keep-alive connections."""
    latencies: list[float] = []
    payload = json.dumps(body).encode()
    label = f"concurrency {concurrency}" + (", upstream 100 ms" if body["model"].endswith("-slow") else "")
    connections = [await RawConnection.open(url) for _ in range(concurrency)]
    # Warm up connections and caches.
    for _ in range(20):
        await connections[0].post(json.dumps(BODY).encode())
    for connection in connections:
        await connection.post(payload)
    queue = iter(range(n))

    slow = body["model"].endswith("-slow")

    async def worker(connection: RawConnection):
        if slow:
            # Start spread over one answer's time, as independent clients would, not in step (in
            # step, every round trip is a burst of 64 requests that queue for the cores).
            await asyncio.sleep(random.random() * 0.1)
        for _ in queue:
            t0 = time.perf_counter()
            status, headers, _ = await connection.post(payload)
            latencies.append(time.perf_counter() - t0)
            assert status == 200, status
            if b"x-router-overhead-ms" in headers:
                SELF_REPORTED.setdefault(label, []).append(float(headers[b"x-router-overhead-ms"]))

    start = time.perf_counter()
    await asyncio.gather(*(worker(connection) for connection in connections))
    wall = time.perf_counter() - start
    for connection in connections:
        connection.close()
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
    # Each proxy's process (<PREFIX>_PID; NGINX_PID is its one worker), for CPU per request.
    def env_pid(name: str) -> int | None:
        return int(os.environ[name]) if os.environ.get(name) else None
    pids = {"router": router_pid, "bare forwarder": env_pid("FLOOR_PID"), "bare HTTP1Client forwarder": env_pid("HTTP1_PID"),
            "channel pipeline forwarder": env_pid("PIPELINE_PID"), "bare SwiftNIO forwarder": env_pid("NIO_PID"),
            "nginx": env_pid("NGINX_PID"), "litellm": litellm_pid}
    upstream_pid = env_pid("UPSTREAM_PID")
    rss_idle = {"router": rss_mb(router_pid), **({"litellm": rss_mb(litellm_pid)} if litellm_pid else {})}
    rows = []
    results: dict = {}
    # Interleaved rounds (direct, router, forwarder, litellm, direct, ...): a slow spell of this
    # shared machine lands on every column alike instead of on one of them.
    for load, c, model, n in LOADS:
        samples: dict[str, list[float]] = {name: [] for name, _ in targets}
        seconds: dict[str, float] = {name: 0.0 for name, _ in targets}
        cpu: dict[str, float] = {}
        upstream_cpu: dict[str, float] = {}
        for _ in range(ROUNDS):
            for name, url in targets:
                before, upstream_before = cpu_seconds(pids.get(name)), cpu_seconds(upstream_pid)
                lat, rps = await run(url, c, n // ROUNDS, model=model)
                after, upstream_after = cpu_seconds(pids.get(name)), cpu_seconds(upstream_pid)
                if before is not None and after is not None:
                    cpu[name] = cpu.get(name, 0.0) + after - before
                if upstream_before is not None and upstream_after is not None:
                    upstream_cpu[name] = upstream_cpu.get(name, 0.0) + upstream_after - upstream_before
                samples[name] += lat
                seconds[name] += len(lat) / rps
        for name, _ in targets:
            lat = samples[name]
            per_request = {k: v[name] * 1000 / len(lat) for k, v in (("proxy", cpu), ("upstream", upstream_cpu)) if name in v}
            results[(name, load)] = (statistics.median(lat), pct(lat, 0.99), len(lat) / seconds[name], per_request)
    ttft = {}
    for name, url in targets:
        if name in ("bare forwarder", "bare HTTP1Client forwarder", "channel pipeline forwarder"):  # they buffer whole bodies
            continue
        lat, _ = await run(url, 1, 300, stream=True)
        ttft[name] = statistics.median(lat)
    rss_after = {"router": rss_mb(router_pid), **({"litellm": rss_mb(litellm_pid)} if litellm_pid else {})}

    print("| concurrency | target | p50 ms | p99 ms | req/s | overhead p50 ms | overhead p99 ms | proxy CPU ms/req | upstream CPU ms/req |")
    print("|---|---|---|---|---|---|---|---|---|")
    for load, _, _, _ in LOADS:
        d50, d99, _, _ = results[("direct", load)]
        for name, _ in targets:
            p50, p99, rps, per_request = results[(name, load)]
            over = "" if name == "direct" else f"{p50 - d50:.3f} | {p99 - d99:.3f}"
            proxy_cpu = f"{per_request['proxy']:.3f}" if "proxy" in per_request else "-"
            upstream = f"{per_request['upstream']:.3f}" if "upstream" in per_request else "-"
            print(f"| {load} | {name} | {p50:.3f} | {p99:.3f} | {rps:.0f} | {over or '- | -'} | {proxy_cpu} | {upstream} |")
    print()
    print("Streaming time to first content token, concurrency 1 (median): " + ", ".join(
        f"{name} {ttft[name]:.3f} ms" + ("" if name == "direct" else f" (+{ttft[name] - ttft['direct']:.3f})") for name in ttft))
    print()
    print("Router's own x-router-overhead-ms (inside the process, upstream time excluded): " + ", ".join(
        f"{c}: p50 {statistics.median(v):.3f} ms, p99 {pct(v, 0.99):.3f} ms" for c, v in SELF_REPORTED.items()))
    print()
    print("RSS: " + ", ".join(f"{k} idle {rss_idle[k]:.0f} MB, after {rss_after[k]:.0f} MB" for k in rss_idle))
    if RawConnection.reconnects:
        print()
        print(f"({RawConnection.reconnects} requests were sent again on a new connection: a server closed its keep-alive connection unannounced, or did not answer within 10 s.)")
    print(json.dumps({"results": {f"{k[0]}@{k[1]}": v for k, v in results.items()}, "ttft": ttft}), file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
