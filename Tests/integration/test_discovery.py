"""Discovery end to end: a Docker Engine API double on a unix socket, real PostgreSQL and Redis,
the Swift fixture shard and a Python MCPServer as the discovered "containers", and the gateway
following discovery over Redis or over the HTTP feed."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest

from conftest import free_port, mcp_client, wait_until
from docker_double import DockerDouble
from pg_redis import PostgresServer, RedisServer

HERE = Path(__file__).parent
pytestmark = pytest.mark.anyio


def start_fixture(services, bin_path, name="fx"):
    return services(f"fixture-{name}", [str(bin_path / "fixture-shard")], {"FIXTURE_NAME": name})


def start_python_shard(services, name="pyshard"):
    port = free_port()
    return services(name, [sys.executable, str(HERE / "servers" / "python_shard.py"), str(port), name], port=port, health_path=None)


def start_discovery(services, bin_path, docker_url: str, **env):
    base = {"DOCKER_HOST": docker_url, "DISCOVERY_HEALTH_INTERVAL": "0.5", "DISCOVERY_HEALTH_TIMEOUT": "2",
            "DISCOVERY_INTERVAL": "5", "DISCOVERY_REMOVE_GRACE": "1", "LOG_LEVEL": "debug"}
    return services("discovery", [str(bin_path / "discovery")], {**base, **env})


def start_gateway(services, bin_path, **env):
    return services("gateway", [str(bin_path / "gateway")], {"GATEWAY_PROBE_INTERVAL": "0.3", **env})


def labels(name: str, port: int, **extra) -> dict[str, str]:
    return {"mcp.enable": "true", "mcp.name": name, "mcp.port": str(port), "mcp.type": "shard",
            "mcp.description": f"the {name} server", "com.docker.compose.service": name, **extra}


def server_names(discovery, all_servers=False) -> set[str]:
    r = httpx2.get(discovery.url + "/api/v1/servers" + ("?all=true" if all_servers else ""), timeout=5)
    return {s["name"] for s in r.json()["servers"]}


def component(service, name):
    return next((c for c in httpx2.get(service.url + "/health", timeout=5).json()["components"] if c["name"] == name), None)


def redis_names(redis: RedisServer) -> set[str]:
    text = redis.cli("GET", "mcp:servers:list")
    return {s["name"] for s in json.loads(text)["servers"]} if text else set()


def pg_status(pg: PostgresServer, name: str) -> str | None:
    rows = pg.query(f"SELECT health_status FROM mcp_servers WHERE name = '{name}'")
    return rows[0][0] if rows else None


async def tool_names(gateway) -> set[str]:
    async with mcp_client(gateway.url + "/mcp") as client:
        return {t.name for t in (await client.list_tools()).tools}


async def wait_for_tool(gateway, tool: str, present: bool = True, timeout: float = 15.0) -> None:
    import anyio

    with anyio.fail_after(timeout):
        while (tool in await tool_names(gateway)) != present:
            await anyio.sleep(0.1)


async def test_postgres_redis_lifecycle_and_restarts(services, bin_path):
    fx = start_fixture(services, bin_path)
    py = start_python_shard(services)
    static_py = start_python_shard(services, name="pystatic")
    with DockerDouble(api_version="1.52", min_version="1.44") as docker, PostgresServer() as pg, RedisServer() as redis:
        disc = start_discovery(services, bin_path, docker.url, DATABASE_URL=pg.url, REDIS_URL=redis.url)
        gw = start_gateway(services, bin_path, REDIS_URL=redis.url, GATEWAY_SHARDS=f"stat={static_py.url}/mcp")
        wait_until(lambda: (component(disc, "docker") or {}).get("status") == "healthy", message="docker connected")
        # Negotiated min(1.50, daemon 1.52) and never used an unversioned path.
        assert any(p.startswith("/v1.50/containers/json") for p in docker.requests)
        assert any(p.startswith("/v1.50/events") for p in docker.requests)

        # Start: a row in mcp_servers, the key in Redis, tools callable through the gateway.
        cid = docker.start_container("fx", labels("fx", fx.port))
        wait_until(lambda: pg_status(pg, "fx") == "healthy", timeout=15, message="fx row healthy")
        wait_until(lambda: "fx" in redis_names(redis), message="fx in redis list")
        ttl = int(redis.cli("TTL", "mcp:servers:list"))
        assert 0 < ttl <= 60
        row = pg.query("SELECT type, endpoint, capabilities::text, metadata->>'description', metadata->>'tool_count' FROM mcp_servers WHERE name = 'fx'")[0]
        assert row[0] == "shard" and row[1] == f"http://127.0.0.1:{fx.port}/mcp" and "tools" in row[2]
        assert row[3] == "the fx server" and int(row[4]) >= 4
        await wait_for_tool(gw, "fx_echo")
        async with mcp_client(gw.url + "/mcp") as client:
            assert (await client.call_tool("fx_echo", {"text": "found"})).content[0].text == "found"
            assert (await client.call_tool("stat_greet", {"name": "static"})).content[0].text == "Hello, static!"

        # Stop: gone from the gateway, the list and the API; the row stays, marked removed.
        docker.stop_container(cid)
        await wait_for_tool(gw, "fx_echo", present=False, timeout=5)
        assert "fx" not in redis_names(redis) and "fx" not in server_names(disc)
        wait_until(lambda: pg_status(pg, "fx") == "removed", timeout=15, message="fx row marked removed")
        assert "stat_greet" in await tool_names(gw)

        # PostgreSQL and Redis go down; a server starts meanwhile; both come back: nothing is lost.
        pg.stop()
        redis.stop()
        docker.start_container("py", labels("py", py.port, **{"mcp.type": "fastmcp"}))
        wait_until(lambda: "py" in server_names(disc), timeout=15, message="py discovered while databases are down")
        wait_until(lambda: (component(disc, "database") or {}).get("status") == "unhealthy", message="database reported down")
        wait_until(lambda: (component(disc, "redis") or {}).get("status") == "unhealthy", message="redis reported down")
        assert httpx2.get(disc.url + "/health").json()["status"] == "degraded"
        pg.start()
        redis.start()
        wait_until(lambda: pg_status(pg, "py") == "healthy", timeout=20, message="py row written after PostgreSQL is back")
        wait_until(lambda: "py" in redis_names(redis), timeout=20, message="py in redis after restart")
        assert pg_status(pg, "fx") == "removed"  # history kept
        await wait_for_tool(gw, "py_greet", timeout=20)  # the gateway re-subscribed
        async with mcp_client(gw.url + "/mcp") as client:
            assert (await client.call_tool("py_greet", {"name": "again"})).content[0].text == "Hello, again!"
        for log in (disc.log_text(), gw.log_text()):
            assert pg.password not in log and redis.password not in log


class PRBotDouble:
    """Answers /api/v1/create-pr like the PR bot: 503 for the first `failures` calls, then 201."""

    def __init__(self, failures: int = 1):
        self.failures = failures
        self.bodies: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.bodies.append(body)
                status = 503 if len(owner.bodies) <= owner.failures else 201
                data = json.dumps({"message": "busy"} if status == 503 else {"operation": "created"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


async def test_http_feed_sqlite_static_file_and_announcements(services, bin_path, tmp_path):
    fx = start_fixture(services, bin_path)
    static_py = start_python_shard(services, name="n8nlike")
    static_file = tmp_path / "static.yaml"
    static_file.write_text(f"servers:\n  - name: flows\n    endpoint: {static_py.url}/mcp\n    type: n8n\n    description: workflows\n")
    bot = PRBotDouble(failures=1)
    sqlite = tmp_path / "registry" / "discovery.sqlite"
    try:
        with DockerDouble() as docker:
            env = {"DISCOVERY_STATIC": str(static_file), "DISCOVERY_SQLITE_PATH": str(sqlite), "PR_AUTOMATION_URL": bot.url}
            disc = start_discovery(services, bin_path, docker.url, **env)
            gw = start_gateway(services, bin_path, GATEWAY_DISCOVERY_URL=disc.url)
            await wait_for_tool(gw, "flows_greet")
            cid = docker.start_container("fx", labels("fx", fx.port))
            await wait_for_tool(gw, "fx_echo")
            async with mcp_client(gw.url + "/mcp") as client:
                assert json.loads((await client.call_tool("fx_add", {"a": 2, "b": 3})).content[0].text) == {"sum": 5}
            # Announced once each, retried after the bot's 503 until acknowledged.
            wait_until(lambda: {b["server_name"] for b in bot.bodies[1:]} >= {"fx", "flows"}, timeout=15, message="both announced")
            fx_posts = [b for b in bot.bodies if b["server_name"] == "fx"]
            assert fx_posts[-1] == {"server_name": "fx", "type": "shard", "endpoint": f"http://127.0.0.1:{fx.port}/mcp",
                                    "capabilities": fx_posts[-1]["capabilities"], "description": "the fx server"}
            assert "tools" in fx_posts[-1]["capabilities"]
            docker.stop_container(cid)
            await wait_for_tool(gw, "fx_echo", present=False, timeout=5)
            assert "flows_greet" in await tool_names(gw)

            # A restart of discovery remembers what was announced (SQLite): no second post.
            posts = len(bot.bodies)
            services_disc = disc
            services_disc.stop()
            disc2 = start_discovery(services, bin_path, docker.url, **env)
            docker.start_container("fx", labels("fx", fx.port))
            wait_until(lambda: "fx" in server_names(disc2), timeout=15, message="fx rediscovered")
            import anyio
            await anyio.sleep(1.5)
            assert len(bot.bodies) == posts
            assert sqlite.exists()
    finally:
        bot.close()


def test_docker_faults_absent_old_api_and_dropped_stream(services, bin_path, tmp_path):
    fx_port = free_port()
    fx = services("fixture-fx", [str(bin_path / "fixture-shard")], {"FIXTURE_NAME": "fx"}, port=fx_port)
    sock = str(tmp_path / "docker.sock")
    # Absent daemon: a clear error on /health, discovery keeps running.
    disc = start_discovery(services, bin_path, f"unix://{sock}", DISCOVERY_SQLITE_PATH=str(tmp_path / "d.sqlite"))
    wait_until(lambda: (component(disc, "docker") or {}).get("status") == "unhealthy", message="docker reported down")
    assert "does not exist" in component(disc, "docker")["last_error"]

    # A daemon that refuses the versions discovery speaks.
    old = DockerDouble(api_version="1.53", min_version="1.51", socket_path=sock).start()
    wait_until(lambda: "1.51" in ((component(disc, "docker") or {}).get("last_error") or ""), timeout=15, message="version refusal reported")
    assert "refuses API 1.50" in component(disc, "docker")["last_error"]
    old.stop()

    # A good daemon appears on the same socket; then it drops the event stream; events still arrive.
    with DockerDouble(api_version="1.50", min_version="1.24", socket_path=sock) as docker:
        wait_until(lambda: (component(disc, "docker") or {}).get("status") == "healthy", timeout=40, message="docker connected")
        docker.drop_event_streams()
        wait_until(lambda: sum(1 for p in docker.requests if "/events" in p) >= 2, timeout=10, message="event stream reopened")
        docker.start_container("fx", labels("fx", fx.port))
        wait_until(lambda: "fx" in server_names(disc), timeout=5, message="fx discovered after the stream dropped")


def test_server_that_never_answers_is_unhealthy_and_blocks_nothing(services, bin_path, tmp_path):
    fx = start_fixture(services, bin_path)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts TCP, never answers
    try:
        with DockerDouble() as docker:
            disc = start_discovery(services, bin_path, docker.url, DISCOVERY_SQLITE_PATH=str(tmp_path / "d.sqlite"), DISCOVERY_HEALTH_TIMEOUT="0.5")
            docker.start_container("silent", labels("silent", silent.getsockname()[1]))
            docker.start_container("fx", labels("fx", fx.port))
            wait_until(lambda: "fx" in server_names(disc), timeout=10, message="fx healthy next to a silent server")
            def silent_status():
                rows = httpx2.get(disc.url + "/api/v1/servers?all=true").json()["servers"]
                return next((s for s in rows if s["name"] == "silent" and s["health_status"] == "unhealthy"), None)
            record = wait_until(silent_status, timeout=15, message="silent marked unhealthy")
            assert "no MCP answer" in record["metadata"]["last_error"]
            assert "silent" not in server_names(disc)
            assert any("silent" in w for w in httpx2.get(disc.url + "/health").json()["warnings"])
    finally:
        silent.close()


def test_bad_settings_are_named_at_startup(bin_path):
    for env, variable in [({"DOCKER_HOST": "ftp://x"}, "DOCKER_HOST"), ({"REDIS_URL": "redis://:pw@/x"}, "REDIS_URL"),
                          ({"DISCOVERY_STATIC": "/no/such/file.yaml"}, "DISCOVERY_STATIC"),
                          ({"DATABASE_URL": "postgres://u:hunter2@h/db?sslmode=require"}, "DATABASE_URL")]:
        out = subprocess.run([str(bin_path / "discovery")], env={"PORT": str(free_port()), **env}, capture_output=True, text=True, timeout=20)
        assert out.returncode == 2 and variable in out.stderr, (env, out.stderr)
        assert "hunter2" not in out.stderr and ":pw@" not in out.stderr
