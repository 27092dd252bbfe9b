"""scripts/run-local starts the suite with a real Traefik, the gateway sees the Traefik shard,
and Ctrl-C stops every process it started.

The script's release build is not repeated here (it takes far longer than a test should): the
test points it at the binaries `swift build` already made (RUN_LOCAL_BIN), so what it checks is
the start, the wiring and the clean stop."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx2

from conftest import ROOT, wait_until

BASE_PORTS = (9100, 9110, 9120, 9130, 4000, 8000, 8080)


def free_offset(extra_ports: tuple[int, ...] = ()) -> int:
    """A port offset under which every port run-local uses is free."""
    for _ in range(50):
        offset = random.randrange(10000, 25000, 10)
        ok = True
        for base in BASE_PORTS + extra_ports:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + offset))
                except OSError:
                    ok = False
                    break
        if ok:
            return offset
    raise RuntimeError("no free port range for run-local")


@contextlib.contextmanager
def running_run_local(root: Path, bin_path: Path, tmp_path: Path, env: dict[str, str] | None = None, extra_ports: tuple[int, ...] = ()):
    """Starts `root`'s scripts/run-local on the binaries in `bin_path` under a free port offset,
    waits for "ready", and yields (process, log file, offset); whatever is left is killed after."""
    offset = free_offset(extra_ports)
    log = tmp_path / "run-local.out"
    full_env = {**os.environ, "RUN_LOCAL_BIN": str(bin_path), "RUN_LOCAL_PORT_OFFSET": str(offset), "RUN_LOCAL_DIR": str(tmp_path / "run"), **(env or {})}
    for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN", "DOCKER_HOST", "PORT", "HOST"):
        full_env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen([str(root / "scripts" / "run-local")], cwd=root, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "run-local: ready" in log.read_text() or proc.poll() is not None, timeout=120, interval=0.2, message="run-local ready")
        assert proc.poll() is None, log.read_text()
        yield proc, log, offset
    finally:
        if proc.poll() is None or group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def group_members(pgid: int) -> list[str]:
    members = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                members.append(f"{proc.name} {command}")
        except (OSError, ValueError):
            continue
    return members


def test_run_local_starts_the_suite_and_ctrl_c_leaves_nothing_behind(bin_path: Path, tmp_path: Path):
    with running_run_local(ROOT, bin_path, tmp_path) as (proc, log, offset):
        text = log.read_text()
        gateway = f"http://127.0.0.1:{9100 + offset}"
        assert f"{gateway}/mcp" in text and "traefik-shard" in text
        assert "discovery: no Docker" in text or not Path("/var/run/docker.sock").exists()

        # The Traefik shard answers through the gateway, against the real Traefik run-local started.
        def traefik_listed():
            shards = httpx2.get(f"{gateway}/api/v1/shards", timeout=5).json()["shards"]
            return any(s["name"] == "traefik" and s["status"] == "healthy" for s in shards)
        wait_until(traefik_listed, timeout=30, message="gateway lists a healthy traefik shard")
        r = httpx2.post(f"{gateway}/api/v1/mcp/traefik/tools/list_routes", json={}, timeout=20)
        assert r.status_code == 200 and not r.json().get("isError"), r.text
        assert httpx2.get(f"http://127.0.0.1:{8080 + offset}/ping", timeout=5).text == "OK"
        # The router runs on Waldorf's config (deploy/router/router.yaml) with the models it lists.
        models = httpx2.get(f"http://127.0.0.1:{4000 + offset}/v1/models", timeout=5).json()
        assert "local" in {m["id"] for m in models["data"]}, models
        assert len(group_members(proc.pid)) >= 4, group_members(proc.pid)

        # Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=40) == 130, log.read_text()
        wait_until(lambda: not group_members(proc.pid), timeout=5, message="every run-local process gone")
        assert "stopped" in log.read_text()
