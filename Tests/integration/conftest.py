"""Shared fixtures for the integration tests: start the suite's real binaries on free loopback
ports, talk to them with the real clients (the official MCP Python SDK, as Open WebUI does), and
stop them cleanly.

Binaries come from `swift build` (SWIFT_BIN_PATH overrides where to find them).
"""
from __future__ import annotations

import contextlib
import os
import signal
import random
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def bin_path() -> Path:
    env = os.environ.get("SWIFT_BIN_PATH")
    if env:
        return Path(env)
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def free_port() -> int:
    """A free loopback port below Linux's ephemeral range (32768-60999), so that no outgoing
    connection or bind(0) elsewhere can take it between now and the server's own bind."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


def wait_http(url: str, timeout: float = 20.0, proc: "Service | None" = None) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_text()}")
        try:
            r = httpx2.get(url, timeout=1.0)
            if r.status_code < 500:
                return
            last = r.status_code
        except Exception as e:  # noqa: BLE001 - still starting
            last = e
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s (last: {last})")


def wait_tcp(port: int, timeout: float = 20.0, proc: "Service | None" = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


class Service:
    """One child process with its log in a temp file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int | None, health_path: str | None = "/health"):
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.health_path = health_path
        self.log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
        self.popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> "Service":
        full_env = {**os.environ, "HOST": "127.0.0.1", **self.env}
        if self.port is not None:
            full_env["PORT"] = str(self.port)
        self.popen = subprocess.Popen(self.argv, env=full_env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        if wait and self.port is not None:
            if self.health_path is not None:
                wait_http(self.url + self.health_path, proc=self)
            else:
                wait_tcp(self.port, proc=self)
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then wait: a service that needs SIGKILL fails the test that stops it."""
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else None
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout}s of SIGTERM:\n{self.log_text()}")

    def kill(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def log_text(self) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")[-8000:]
        except OSError:
            return ""


@pytest.fixture
def services():
    """Factory: `services(name, argv, env, port)` starts a process that is stopped after the test."""
    started: list[Service] = []

    def start(name: str, argv: list[str], env: dict[str, str] | None = None, port: int | None = None, wait: bool = True, health_path: str | None = "/health") -> Service:
        svc = Service(name, argv, env or {}, port if port is not None else free_port(), health_path)
        started.append(svc)
        return svc.start(wait=wait)

    yield start
    for svc in reversed(started):
        with contextlib.suppress(Exception):
            svc.stop()


@contextlib.asynccontextmanager
async def mcp_client(url: str, headers: dict[str, str] | None = None, mode: str = "auto", timeout: float = 30.0):
    """Connects exactly as Open WebUI 0.12 does: `mcp.Client(streamable_http_client(url,
    http_client=httpx2.AsyncClient(...)), read_timeout_seconds=...)`, in the SDK's default auto
    mode (probe `server/discover`, fall back to initialize)."""
    import mcp
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=headers or {}, timeout=timeout) as http:
        async with mcp.Client(streamable_http_client(url, http_client=http), read_timeout_seconds=timeout, mode=mode) as client:
            yield client


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{message} not met within {timeout}s")
