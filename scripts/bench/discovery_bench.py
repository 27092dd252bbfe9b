"""Discovery benchmark: time from a container's `start` event (Docker API double) to the first
successful tool call through the gateway, and from `stop` to the tool being gone, over the HTTP
feed and over Redis. Usage: discovery_bench.py BIN_DIR [RUNS]. Prints a Markdown table."""
from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
from conftest import mcp_client, wait_http  # noqa: E402
from docker_double import DockerDouble  # noqa: E402
from pg_redis import RedisServer  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([str(binary)], env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "error", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/health")
    return proc, port


async def measure(gateway_port: int, docker: DockerDouble, shard_port: int, runs: int) -> tuple[list[float], list[float]]:
    labels = {"mcp.enable": "true", "mcp.name": "fx", "mcp.port": str(shard_port)}
    up, down = [], []
    async with mcp_client(f"http://127.0.0.1:{gateway_port}/mcp") as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            cid = docker.start_container("fx", labels)
            while True:
                result = None
                try:
                    result = await client.call_tool("fx_echo", {"text": "hi"})
                except Exception:  # noqa: BLE001 - unknown tool until the gateway has it
                    pass
                if result is not None and not result.is_error:
                    break
                await anyio.sleep(0.005)
            up.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            docker.stop_container(cid)
            while "fx_echo" in {t.name for t in (await client.list_tools()).tools}:
                await anyio.sleep(0.005)
            down.append((time.perf_counter() - t0) * 1000)
            await anyio.sleep(0.2)
    return up, down


def row(label: str, values: list[float]) -> str:
    values = sorted(values)
    return f"| {label} | {len(values)} | {statistics.median(values):.0f} | {values[int(len(values) * 0.9) - 1]:.0f} | {values[-1]:.0f} |"


async def main() -> None:
    bin_dir = Path(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    procs: list[subprocess.Popen] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    try:
        with DockerDouble(api_version="1.52", min_version="1.44") as docker, RedisServer() as redis:
            shard, shard_port = start(bin_dir / "fixture-shard", {})
            disc, disc_port = start(bin_dir / "discovery", {
                "DOCKER_HOST": docker.url, "DISCOVERY_SQLITE_PATH": str(tmp / "d.sqlite"), "REDIS_URL": redis.url,
                "DISCOVERY_REMOVE_GRACE": "1"})
            procs += [shard, disc]
            lines = ["| path | runs | median ms | p90 ms | max ms |", "|---|---|---|---|---|"]
            for mode, env in [("HTTP feed", {"GATEWAY_DISCOVERY_URL": f"http://127.0.0.1:{disc_port}"}), ("Redis", {"REDIS_URL": redis.url})]:
                gw, gw_port = start(bin_dir / "gateway", env)
                procs.append(gw)
                await anyio.sleep(1)
                up, down = await measure(gw_port, docker, shard_port, runs)
                lines.append(row(f"{mode}: start event → first tool call", up))
                lines.append(row(f"{mode}: stop event → tool gone", down))
                gw.send_signal(signal.SIGTERM)
                gw.wait(timeout=10)
            print("\n".join(lines))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)


anyio.run(main)
