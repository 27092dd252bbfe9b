"""Issue 8: client profiles, auth, both MCP eras on one URL, the OpenAPI facade (checked with
openapi-spec-validator, schemathesis and Open WebUI's own mcpo), and the 64-character budget."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from conftest import free_port, mcp_client, wait_until, wait_http

HERE = Path(__file__).parent
pytestmark = pytest.mark.anyio
VENV_BIN = Path(sys.executable).parent

LONG_TOOL = "check_certificate_expiry_for_every_router_entrypoint_and_domain_now"


def profile_config(path: Path, fx_url: str, py_url: str) -> Path:
    path.write_text(f"""
shards:
  - name: fx
    url: {fx_url}
  - name: py
    url: {py_url}
trusted_networks: [127.0.0.0/8]
profiles:
  - name: claude
    client_prefix: mcp__homelab__
    include: ["fx/*", "py/greet", "py/{LONG_TOOL}"]
    token_env: TOKENS_CLAUDE
  - name: readonly
    read_only: true
    include: ["fx/*"]
    token_env: TOKENS_READONLY
""")
    return path


@pytest.fixture
def gateway(services, bin_path, tmp_path):
    fx = services("fixture-fx", [str(bin_path / "fixture-shard")], {"FIXTURE_NAME": "fx"})
    py_port = free_port()
    py = services("pyshard", [sys.executable, str(HERE / "servers" / "python_shard.py"), str(py_port)], port=py_port, health_path=None)
    config = profile_config(tmp_path / "gateway.yaml", fx.url + "/mcp", py.url + "/mcp")
    gw = services("gateway", [str(bin_path / "gateway")], {
        "GATEWAY_CONFIG": str(config), "GATEWAY_PROBE_INTERVAL": "0.5",
        "TOKENS_CLAUDE": "claude-secret-1,claude-secret-2", "TOKENS_READONLY": "ro-secret",
        "GATEWAY_API_TOKENS": "admin-secret",
    })
    def healthy():
        health = httpx2.get(gw.url + "/health").json()
        return all(c["status"] == "healthy" for c in health["components"]) and len(health["components"]) == 2
    wait_until(healthy, message="shards healthy")
    return gw


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_profile_subset_readonly_and_auth(gateway, mode):
    url = gateway.url + "/v/claude/mcp"
    async with mcp_client(url, headers=bearer("claude-secret-2"), mode=mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"fx_echo", "fx_add", "fx_slow", "fx_fail", "py_greet"} <= names
        assert "py_echo" not in names and "py_count_with_progress" not in names
        assert all(len("mcp__homelab__" + n) <= 64 for n in names)
        assert (await client.call_tool("py_greet", {"name": "Claude"})).content[0].text == "Hello, Claude!"
        with pytest.raises(MCPError):
            await client.call_tool("py_echo", {"text": "hidden"})

    async with mcp_client(gateway.url + "/v/readonly/mcp", headers=bearer("ro-secret"), mode=mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"fx_echo", "fx_add", "fx_slow", "fx_cancellations"}  # fx_fail is destructive: hidden

    # The default profile (/mcp and /v/default/mcp) sees everything, with its own token.
    for path in ("/mcp", "/v/default/mcp"):
        async with mcp_client(gateway.url + path, headers=bearer("admin-secret"), mode=mode) as client:
            assert "py_echo" in {t.name for t in (await client.list_tools()).tools}


def test_wrong_empty_and_missing_tokens_get_401_with_clear_text(gateway):
    url = gateway.url + "/v/claude/mcp"
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    cases = {
        None: "needs a bearer token",
        "Bearer": "empty key",
        "Bearer wrong": "not valid for profile 'claude'",
        "Bearer ro-secret": "not valid for profile 'claude'",
        "Basic abc": "Only 'Authorization: Bearer",
    }
    for value, text in cases.items():
        h = dict(headers)
        if value is not None:
            h["Authorization"] = value
        r = httpx2.post(url, headers=h, json=init)
        assert r.status_code == 401, value
        assert text in r.json()["error"]["message"], value
        assert r.headers["www-authenticate"].startswith("Bearer") and "resource_metadata" not in r.headers["www-authenticate"]
    assert httpx2.post(url, headers={**headers, **bearer("claude-secret-1")}, json=init).status_code == 200
    # No OAuth metadata is published (Claude Code would otherwise start an OAuth flow).
    assert httpx2.get(gateway.url + "/.well-known/oauth-protected-resource").status_code == 404
    # The REST API is guarded by the default profile's tokens.
    assert httpx2.get(gateway.url + "/api/v1/shards").status_code == 401
    assert httpx2.get(gateway.url + "/api/v1/shards", headers=bearer("admin-secret")).status_code == 200


def test_stateless_2026_exchange_and_header_checks(gateway):
    url = gateway.url + "/v/claude/mcp"
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}, "io.modelcontextprotocol/clientCapabilities": {}}
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **bearer("claude-secret-1")}

    def post(method, params=None, headers=None, **extra):
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {**(params or {}), "_meta": meta}}
        h = {**base, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, **(headers or {})}
        return httpx2.post(url, headers=h, json=body)

    r = post("server/discover")
    assert r.status_code == 200 and "2026-07-28" in r.json()["result"]["supportedVersions"]
    assert "mcp-session-id" not in r.headers
    r = post("tools/call", {"name": "fx_echo", "arguments": {"text": "stateless"}}, headers={"Mcp-Name": "fx_echo"})
    assert r.json()["result"]["content"][0]["text"] == "stateless" and r.json()["result"]["resultType"] == "complete"
    # Mcp-Name must mirror the body.
    r = post("tools/call", {"name": "fx_echo", "arguments": {"text": "x"}}, headers={"Mcp-Name": "fx_add"})
    assert r.status_code == 400 and r.json()["error"]["code"] == -32020
    # Mcp-Method must mirror the body.
    r = post("tools/list", headers={"Mcp-Method": "tools/call"})
    assert r.status_code == 400 and r.json()["error"]["code"] == -32020
    # Header and _meta versions must agree.
    r = post("tools/list", headers={"MCP-Protocol-Version": "2025-11-25"})
    assert r.status_code == 400 and r.json()["error"]["code"] == -32020
    # An unknown version names the supported ones.
    meta["io.modelcontextprotocol/protocolVersion"] = "2099-01-01"
    r = post("tools/list", headers={"MCP-Protocol-Version": "2099-01-01"})
    assert r.status_code == 400 and r.json()["error"]["code"] == -32022 and "2026-07-28" in r.json()["error"]["data"]["supported"]
    meta["io.modelcontextprotocol/protocolVersion"] = "2026-07-28"
    r = post("nothing/here")
    assert r.status_code == 404 and r.json()["error"]["code"] == -32601


async def test_expired_session_gets_404_then_reinitializes(gateway):
    url = gateway.url + "/v/claude/mcp"
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **bearer("claude-secret-1")}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    session = httpx2.post(url, headers=headers, json=init).headers["mcp-session-id"]
    assert httpx2.delete(url, headers={**headers, "Mcp-Session-Id": session}).status_code == 200
    r = httpx2.post(url, headers={**headers, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert r.status_code == 404
    async with mcp_client(url, headers=bearer("claude-secret-1"), mode="legacy") as client:
        assert (await client.call_tool("fx_echo", {"text": "new session"})).content[0].text == "new session"


def test_openapi_facade_validates_and_calls(gateway):
    spec = httpx2.get(gateway.url + "/v/claude/openapi.json", headers=bearer("claude-secret-1")).json()
    from openapi_spec_validator import validate
    validate(spec)
    ops = {op["post"]["operationId"] for op in spec["paths"].values()}
    assert "fx_echo" in ops and "py_echo" not in ops
    assert "$ref" not in json.dumps(spec["paths"]["/tools/fx_echo"]["post"]["requestBody"])

    r = httpx2.post(gateway.url + "/v/claude/tools/fx_add", headers=bearer("claude-secret-1"), json={"a": 1, "b": 2})
    assert r.status_code == 200 and r.json() == {"sum": 3.0}
    r = httpx2.post(gateway.url + "/v/claude/tools/fx_echo", headers=bearer("claude-secret-1"), json={"text": "rest"})
    assert r.json() == {"result": "rest"}
    r = httpx2.post(gateway.url + "/v/claude/tools/fx_fail", headers=bearer("claude-secret-1"), json={})
    assert r.status_code == 422 and "always fails" in r.json()["detail"]
    r = httpx2.post(gateway.url + "/v/claude/tools/py_echo", headers=bearer("claude-secret-1"), json={"text": "x"})
    assert r.status_code == 404
    assert httpx2.post(gateway.url + "/v/claude/tools/fx_echo", json={"text": "x"}).status_code == 401
    # CORS for browser-side direct tool servers.
    r = httpx2.options(gateway.url + "/v/claude/tools/fx_echo", headers={"Origin": "http://openwebui.lan:3000", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
    assert r.headers.get("access-control-allow-origin") == "http://openwebui.lan:3000"


def test_schemathesis_finds_no_server_errors(gateway, tmp_path):
    out = subprocess.run(
        [str(VENV_BIN / "schemathesis"), "run", gateway.url + "/v/readonly/openapi.json",
         "--url", gateway.url + "/v/readonly", "-H", "Authorization: Bearer ro-secret",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--max-examples", "25", "--exclude-operation-id", "fx_slow"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_mcpo_in_front_of_the_gateway(services, gateway):
    """mcpo 0.0.20 needs the 1.x Python SDK, so it lives in its own venv (scripts/setup-python)."""
    port = free_port()
    mcpo_bin = Path(__file__).resolve().parents[2] / ".venv-mcpo" / "bin" / "mcpo"
    mcpo = services("mcpo", [str(mcpo_bin), "--host", "127.0.0.1", "--port", str(port), "--server-type", "streamable-http",
                             "--header", json.dumps(bearer("claude-secret-1")), "--", gateway.url + "/v/claude/mcp"],
                    port=port, health_path="/openapi.json")
    r = httpx2.post(mcpo.url + "/fx_echo", json={"text": "through mcpo"}, timeout=20)
    assert r.status_code == 200 and "through mcpo" in r.text


def test_client_snippets_and_name_budget(gateway):
    r = httpx2.get(gateway.url + "/api/v1/clients/claude", headers=bearer("admin-secret"))
    snippets = r.json()
    # Named as the profile's client_prefix (mcp__homelab__) assumes, not after the profile.
    assert "claude mcp add --transport http homelab " in snippets["claude_code"]["command"]
    assert snippets["open_webui"]["TOOL_SERVER_CONNECTIONS"][0]["auth_type"] == "bearer"
    assert snippets["mcp_url"]["from_containers"].endswith("/v/claude/mcp")
    assert "claude-secret" not in r.text  # tokens are never echoed
    assert httpx2.get(gateway.url + "/api/v1/clients/nope", headers=bearer("admin-secret")).status_code == 404


async def test_names_fit_64_characters_after_the_client_prefix(services, bin_path, tmp_path):
    """A shard and tool named to hit the limit: the final name with Claude Code's prefix fits."""
    py_port = free_port()
    long_shard = "a-very-long-shard-name-x"
    services("longshard", [sys.executable, str(HERE / "servers" / "long_names_shard.py"), str(py_port), LONG_TOOL], port=py_port, health_path=None)
    config = tmp_path / "g.yaml"
    config.write_text(f"shards:\n  - name: {long_shard}\n    url: http://127.0.0.1:{py_port}/mcp\nprofiles:\n  - name: claude\n    client_prefix: mcp__homelab__\n  - name: owui\n    client_prefix: homelab_\n")
    gw = services("gateway", [str(bin_path / "gateway")], {"GATEWAY_CONFIG": str(config), "GATEWAY_PROBE_INTERVAL": "0.5"})
    wait_until(lambda: httpx2.get(gw.url + "/health").json()["status"] == "ok", message="shard up")
    for profile, prefix in (("claude", "mcp__homelab__"), ("owui", "homelab_"), ("default", "")):
        async with mcp_client(gw.url + f"/v/{profile}/mcp") as client:
            tools = (await client.list_tools()).tools
            assert len(tools) == 2
            for tool in tools:
                final = prefix + tool.name
                assert len(final) <= 64 and all(c.isalnum() or c in "_-" for c in final), final
            long_name = next(t.name for t in tools if t.name != f"{long_shard}_ping")
            assert (await client.call_tool(long_name, {})).content[0].text == "long ok"


async def test_forwarded_identity_is_logged_only_as_the_gateway_trusts_it(gateway):
    """The fixture trusts 127.0.0.0/8: Open WebUI's user headers become the caller in the log; a
    client cannot forge the gateway's own caller header."""
    headers = {**bearer("claude-secret-1"), "X-OpenWebUI-User-Name": "alice", "X-OpenWebUI-User-Email": "alice@example.lan",
               "X-Gateway-Caller": "forged-admin"}
    async with mcp_client(gateway.url + "/v/claude/mcp", headers=headers, mode="legacy") as client:
        await client.call_tool("fx_echo", {"text": "who"})
    wait_until(lambda: "alice@example.lan" in gateway.log_text(), message="caller logged")
    assert "forged-admin" not in gateway.log_text()
