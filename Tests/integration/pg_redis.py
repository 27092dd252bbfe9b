"""Real PostgreSQL and Redis for the integration tests: each starts on a free loopback port in a
temp dir and can be stopped and restarted on the same port and data (to prove nothing is lost
when a database comes back). PostgreSQL refuses to run as root, so it runs via `runuser -u postgres`.

    with PostgresServer() as pg, RedisServer() as redis:
        env = {"DATABASE_URL": pg.url, "REDIS_URL": redis.url}
        pg.query("SELECT name FROM mcp_servers")      # rows as lists of strings (psql)
        redis.cli("GET", "mcp:servers:list")           # redis-cli output
        pg.restart(); redis.restart()
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    from conftest import free_port  # one picking rule for every test server

    return free_port()


def _wait_port(port: int, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on {port} within {timeout}s")


class PostgresServer:
    """A throwaway PostgreSQL 15 cluster; `url` is a DATABASE_URL for user `mcp`, database `mcp`."""

    user = "mcp"
    password = "mcp-test-password"
    database = "mcp"

    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.proc: subprocess.Popen | None = None
        shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(self.data), "-U", self.user,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> "PostgresServer":
        logf = open(self.log, "ab")
        shutil.chown(self.log, "postgres", "postgres")
        self.proc = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.dir), "-c", "fsync=off"],
            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port, 30, "postgres", self.proc)
        deadline = time.monotonic() + 30
        while True:  # the port opens before the cluster accepts logins
            r = self._psql("postgres", "SELECT 1")
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"postgres not ready: {r.stderr}")
            time.sleep(0.1)
        if not self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'").stdout.strip():
            self._psql("postgres", f"CREATE DATABASE {self.database}", check=True)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            # Fast shutdown: SIGTERM's smart mode would wait for every client to disconnect.
            subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-D", str(self.data)],
                           capture_output=True)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _psql(self, database: str, sql: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database,
             "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env={**os.environ, "PGPASSWORD": self.password}, capture_output=True, text=True, check=check)

    def query(self, sql: str) -> list[list[str]]:
        """Rows as lists of column texts (tab-separated psql output)."""
        r = self._psql(self.database, sql, check=True)
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class RedisServer:
    """A throwaway redis-server with a password and an append-only file, so a restart keeps data."""

    password = "redis-test-password"

    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--requirepass", self.password, "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=open(self.dir / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port, 15, "redis-server", self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cli(self, *args: str) -> str:
        r = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning", "-a", self.password, *args],
            capture_output=True, text=True, check=True)
        return r.stdout.rstrip("\n")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
