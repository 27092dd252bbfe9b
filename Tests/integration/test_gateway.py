"""The gateway against real shards (the Swift fixture shard and a shard written with the official
Python SDK's MCPServer), driven by the client Open WebUI runs (the official Python MCP SDK 2.3)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError

from conftest import free_port, mcp_client, wait_until

HERE = Path(__file__).parent
pytestmark = pytest.mark.anyio


def start_fixture(services, bin_path, name="fx", port=None):
    return services(f"fixture-{name}", [str(bin_path / "fixture-shard")], {"FIXTURE_NAME": name}, port=port)


def start_python_shard(services, port=None, name="pyshard"):
    port = port or free_port()
    return services(name, [sys.executable, str(HERE / "servers" / "python_shard.py"), str(port), name], port=port, health_path=None)


def start_gateway(services, bin_path, shards: dict[str, str], **env):
    shard_list = ",".join(f"{n}={u}" for n, u in shards.items())
    return services("gateway", [str(bin_path / "gateway")], {"GATEWAY_SHARDS": shard_list, "GATEWAY_PROBE_INTERVAL": "0.3", **env})


def shard_status(gateway, name):
    health = httpx2.get(gateway.url + "/health").json()
    return next((c for c in health["components"] if c["name"] == name), None)


@pytest.fixture
def stack(services, bin_path):
    fx = start_fixture(services, bin_path)
    py = start_python_shard(services)
    gw = start_gateway(services, bin_path, {"fx": fx.url + "/mcp", "py": py.url + "/mcp"}, GATEWAY_CALL_TIMEOUT="1.5")
    wait_until(lambda: all((shard_status(gw, n) or {}).get("status") == "healthy" for n in ("fx", "py")), message="both shards healthy")
    return fx, py, gw


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_aggregates_swift_and_python_shards(stack, mode):
    """auto = what Open WebUI 0.12 does (probe server/discover, speak 2026-07-28);
    legacy = the 2025-11-25 initialize handshake with a session."""
    _, _, gw = stack
    async with mcp_client(gw.url + "/mcp", mode=mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"fx_echo", "fx_add", "fx_slow", "fx_fail", "fx_cancellations", "py_greet", "py_echo", "py_count_with_progress"} <= names
        assert all(len(n) <= 64 for n in names)

        assert (await client.call_tool("fx_echo", {"text": "hi"})).content[0].text == "hi"
        assert (await client.call_tool("py_echo", {"text": "hi"})).content[0].text == "py:hi"
        assert (await client.call_tool("py_greet", {"name": "Waldorf"})).content[0].text == "Hello, Waldorf!"

        added = await client.call_tool("fx_add", {"a": 2, "b": 40})
        assert added.structured_content == {"sum": 42.0} and not added.is_error

        failed = await client.call_tool("fx_fail", {})
        assert failed.is_error and "always fails" in failed.content[0].text

        with pytest.raises(MCPError) as unknown:
            await client.call_tool("nope_nothing", {})
        assert "Unknown tool 'nope_nothing'" in str(unknown.value)

        bad_input = await client.call_tool("fx_echo", {})
        assert bad_input.is_error and "'text' is required" in bad_input.content[0].text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_progress_prompts_and_resources_pass_through(stack, mode):
    _, _, gw = stack
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    async with mcp_client(gw.url + "/mcp", mode=mode) as client:
        assert client.protocol_version == ("2026-07-28" if mode == "auto" else "2025-11-25")
        result = await client.call_tool("py_count_with_progress", {"steps": 3}, progress_callback=on_progress)
        assert result.content[0].text == "counted 3"
        assert [p for p, _, _ in seen] == [1, 2, 3]

        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert "py_summarize" in prompts
        prompt = await client.get_prompt("py_summarize", {"topic": "Traefik"})
        assert "Summarize Traefik" in prompt.messages[0].content.text

        resources = (await client.list_resources()).resources
        assert any(str(r.uri) == "notes://today" for r in resources)
        read = await client.read_resource("notes://today")
        assert read.contents[0].text == "buy milk"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_slow_shard_times_out_without_blocking_others(stack, mode):
    _, _, gw = stack
    async with mcp_client(gw.url + "/mcp", mode=mode) as client:
        results = {}

        async def slow():
            started = time.monotonic()
            try:
                await client.call_tool("fx_slow", {"ms": 10_000})
                results["slow"] = "answered"
            except MCPError as e:
                results["slow"] = str(e)
            results["slow_s"] = time.monotonic() - started

        async def fast():
            await anyio.sleep(0.2)
            started = time.monotonic()
            r = await client.call_tool("py_greet", {"name": "x"})
            results["fast_s"] = time.monotonic() - started
            results["fast"] = r.content[0].text

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            tg.start_soon(fast)
        assert "did not answer within" in results["slow"]
        assert results["slow_s"] < 5
        assert results["fast"] == "Hello, x!" and results["fast_s"] < 1.0


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_client_cancellation_reaches_the_shard(stack, mode):
    _, _, gw = stack
    async with mcp_client(gw.url + "/mcp", mode=mode) as client:
        with anyio.move_on_after(0.5):
            await client.call_tool("fx_slow", {"ms": 1_000})
        # legacy: the SDK sent notifications/cancelled; auto (2026-07-28): it closed the request.
        # Either way the gateway passed it on and the shard stopped waiting (well before the 1 s
        # the call would have taken).
        for _ in range(5):
            count = int((await client.call_tool("fx_cancellations", {})).content[0].text)
            if count >= 1:
                break
            await anyio.sleep(0.1)
        assert count >= 1


async def test_dead_shard_is_hidden_and_returns_without_restart(services, bin_path):
    fx = start_fixture(services, bin_path)
    py_port = free_port()
    py = start_python_shard(services, port=py_port)
    gw = start_gateway(services, bin_path, {"fx": fx.url + "/mcp", "py": py.url + "/mcp"})
    wait_until(lambda: (shard_status(gw, "py") or {}).get("status") == "healthy", message="py healthy")

    async with mcp_client(gw.url + "/mcp") as client:
        assert "py_greet" in {t.name for t in (await client.list_tools()).tools}
        py.kill()
        wait_until(lambda: (shard_status(gw, "py") or {}).get("status") == "unhealthy", message="py marked down")
        names = {t.name for t in (await client.list_tools()).tools}
        assert "py_greet" not in names and "fx_echo" in names
        with pytest.raises(MCPError) as gone:
            await client.call_tool("py_greet", {"name": "x"})
        assert "Unknown tool" in str(gone.value) or "unavailable" in str(gone.value)
        assert (await client.call_tool("fx_echo", {"text": "still here"})).content[0].text == "still here"
        health = httpx2.get(gw.url + "/health").json()
        assert health["status"] == "degraded" and shard_status(gw, "py")["last_error"]

        start_python_shard(services, port=py_port, name="pyshard-again")
        wait_until(lambda: (shard_status(gw, "py") or {}).get("status") == "healthy", message="py back")
        assert (await client.call_tool("py_greet", {"name": "back"})).content[0].text == "Hello, back!"


async def test_health_rest_api_and_metrics(stack):
    _, _, gw = stack
    health = httpx2.get(gw.url + "/health").json()
    assert health["status"] == "ok" and health["service"] == "gateway"
    fx = shard_status(gw, "fx")
    assert fx["tool_count"] == 5 and fx["latency_ms"] >= 0 and fx["last_probe"]

    shards = httpx2.get(gw.url + "/api/v1/shards").json()["shards"]
    assert {s["name"] for s in shards} == {"fx", "py"}

    r = httpx2.post(gw.url + "/api/v1/mcp/fx/tools/add", json={"a": 1, "b": 2})
    assert r.status_code == 200 and r.json()["structuredContent"] == {"sum": 3.0}
    r = httpx2.post(gw.url + "/api/v1/mcp/nope/tools/add", json={})
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"] and "/api/v1/shards" in r.json()["error"]["message"]
    r = httpx2.post(gw.url + "/api/v1/mcp/fx/tools/add", content=b"{not json")
    assert r.status_code == 400

    async with mcp_client(gw.url + "/mcp") as client:
        await client.call_tool("fx_echo", {"text": "m"})
    metrics = httpx2.get(gw.url + "/metrics").text
    assert 'gateway_tool_calls_total{' in metrics and 'outcome="ok"' in metrics
    assert "gateway_shard_up" in metrics and "gateway_tool_call_duration_seconds" in metrics
    assert "gateway_active_sessions" in metrics


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_bad_requests_get_clear_errors(stack):
    _, _, gw = stack
    url = gw.url + "/mcp"
    # Open WebUI's auto mode probes server/discover first: any 4xx JSON-RPC error makes it fall back.
    started = time.monotonic()
    r = httpx2.post(url, headers=MCP_HEADERS, json={"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}})
    assert 400 <= r.status_code < 500 and "error" in r.json() and time.monotonic() - started < 1
    r = httpx2.post(url, headers=MCP_HEADERS, content=b"{this is not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == -32700
    r = httpx2.post(url, headers=MCP_HEADERS, json={"hello": "world"})
    assert r.status_code == 400 and "error" in r.json()
    r = httpx2.post(url, headers={**MCP_HEADERS, "Mcp-Session-Id": "deadbeef"}, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert r.status_code == 404
    r = httpx2.get(url, headers={"Accept": "text/event-stream"})
    assert r.status_code == 400
    r = httpx2.put(url, headers=MCP_HEADERS, json={})
    assert r.status_code == 405 and "POST" in r.headers["allow"] and "Method Not Allowed" in r.text
    r = httpx2.post(url, headers={**MCP_HEADERS, "Origin": "http://evil.example"}, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
    assert r.status_code == 403
    r = httpx2.post(url, headers=MCP_HEADERS, content=b"x" * (5 << 20))
    assert r.status_code == 413 and "larger than" in r.json()["error"]["message"]
    # No redirects anywhere: a trailing slash is a plain 404, never a 30x.
    r = httpx2.post(url + "/", headers=MCP_HEADERS, json={})
    assert r.status_code not in (301, 302, 307, 308)
    assert httpx2.get(gw.url + "/health").status_code == 200


def test_session_tools_list_is_answered_from_the_catalog_with_the_sdks_checks(stack):
    """A session's one-page tools/list skips the SDK's result round trip but not its validation."""
    _, _, gw = stack
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = httpx2.post(gw.url + "/mcp", headers=MCP_HEADERS, json=init)
    session = r.headers["mcp-session-id"]
    headers = {**MCP_HEADERS, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    r = httpx2.post(gw.url + "/mcp", headers=headers, content=b'{"jsonrpc":"2.0","id":"a-7","method":"tools/list"}')
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["id"] == "a-7" and "fx_echo" in {t["name"] for t in body["result"]["tools"]}
    assert all("inputSchema" in t for t in body["result"]["tools"])
    # The same checks as every other request of the session: protocol version, content type.
    r = httpx2.post(gw.url + "/mcp", headers={**headers, "MCP-Protocol-Version": "1999-01-01"}, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert r.status_code == 400
    r = httpx2.post(gw.url + "/mcp", headers={**headers, "Content-Type": "text/plain"}, content=b'{"jsonrpc":"2.0","id":3,"method":"tools/list"}')
    assert r.status_code == 415
    # A cursor goes to the SDK server, which answers on its event stream.
    r = httpx2.post(gw.url + "/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"cursor": "x"}})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    httpx2.delete(gw.url + "/mcp", headers=headers)


async def test_session_tool_calls_are_forwarded_as_bytes_and_still_cancellable(stack):
    """A session's tools/call skips the SDK server (answered as JSON), keeps its errors, and a
    raw notifications/cancelled still stops the call at the shard."""
    _, _, gw = stack
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    async with httpx2.AsyncClient(base_url=gw.url, timeout=10) as http:
        r = await http.post("/mcp", headers=MCP_HEADERS, json=init)
        headers = {**MCP_HEADERS, "Mcp-Session-Id": r.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}

        def call(id, name, arguments, **params):
            return http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments, **params}})

        r = await call("c-1", "fx_echo", {"text": "caf\u00e9 \\ \"q\" /"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert r.json()["id"] == "c-1" and r.json()["result"]["content"][0]["text"] == "caf\u00e9 \\ \"q\" /"
        r = await call(2, "fx_nope", {})
        assert r.json()["id"] == 2 and "fx_nope" in r.json()["error"]["message"]
        r = await http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"arguments": {}}})
        assert r.json()["error"]["code"] == -32602 and "params.name" in r.json()["error"]["message"]
        # Protocol version is checked as for every other request of the session.
        r = await http.post("/mcp", headers={**headers, "MCP-Protocol-Version": "1999-01-01"}, json={"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "fx_echo", "arguments": {"text": "x"}}})
        assert r.status_code == 400

        before = int((await call(5, "fx_cancellations", {})).json()["result"]["content"][0]["text"])
        slow = {}

        async def slow_call():
            started = time.monotonic()
            slow["response"] = await call(6, "fx_slow", {"ms": 5_000})
            slow["seconds"] = time.monotonic() - started

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow_call)
            await anyio.sleep(0.3)
            r = await http.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 6, "reason": "user stopped"}})
            assert r.status_code == 202
        assert slow["seconds"] < 3 and slow["response"].json()["error"]["code"] == -32800
        wait_until(lambda: int(httpx2.post(gw.url + "/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "fx_cancellations", "arguments": {}}}).json()["result"]["content"][0]["text"]) > before,
                   message="the shard saw the cancellation")

        # A call that asks for progress stays with the SDK server, which streams on the POST.
        r = await call(8, "fx_echo", {"text": "p"}, _meta={"progressToken": "t-1"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream") and '"p"' in r.text
        await http.delete("/mcp", headers=headers)


async def test_delete_ends_session_and_expired_session_reinitializes(stack):
    _, _, gw = stack
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    r = httpx2.post(gw.url + "/mcp", headers=MCP_HEADERS, json=init)
    assert r.status_code == 200
    session = r.headers["mcp-session-id"]
    assert "2025-11-25" in r.text
    headers = {**MCP_HEADERS, "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    assert httpx2.delete(gw.url + "/mcp", headers=headers).status_code == 200
    r = httpx2.post(gw.url + "/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert r.status_code == 404
    # A fresh client simply initializes again.
    async with mcp_client(gw.url + "/mcp") as client:
        assert (await client.call_tool("fx_echo", {"text": "again"})).content[0].text == "again"


async def test_list_changed_reaches_connected_sessions_and_config_file_reloads(services, bin_path, tmp_path):
    fx = start_fixture(services, bin_path)
    py = start_python_shard(services)
    config = tmp_path / "gateway.yaml"
    config.write_text(f"shards:\n  - name: fx\n    url: {fx.url}/mcp\n")
    gw = services("gateway", [str(bin_path / "gateway")], {"GATEWAY_CONFIG": str(config), "GATEWAY_PROBE_INTERVAL": "0.3"})
    wait_until(lambda: (shard_status(gw, "fx") or {}).get("status") == "healthy", message="fx healthy")

    changed = anyio.Event()

    async def on_message(message):
        if getattr(getattr(message, "root", message), "method", None) == "notifications/tools/list_changed" or "list_changed" in repr(message):
            changed.set()

    import mcp
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(timeout=30) as http:
        # Session era (2025-11-25): list changes arrive on the session's GET stream.
        async with mcp.Client(streamable_http_client(gw.url + "/mcp", http_client=http), message_handler=on_message, mode="legacy") as client:
            assert "py_greet" not in {t.name for t in (await client.list_tools()).tools}
            config.write_text(f"shards:\n  - name: fx\n    url: {fx.url}/mcp\n  - name: py\n    url: {py.url}/mcp\n")
            with anyio.fail_after(10):
                await changed.wait()
            assert "py_greet" in {t.name for t in (await client.list_tools(cache_mode="refresh")).tools}
            # A broken edit keeps the last good list.
            config.write_text("shards: [ {name: 'bad name!', url: nowhere} ]\n")
            await anyio.sleep(3)
            assert "py_greet" in {t.name for t in (await client.list_tools(cache_mode="refresh")).tools}
            # ... and /health says so (degraded, the config component with why) until a good edit.
            health = httpx2.get(gw.url + "/health").json()
            [problem] = [c for c in health["components"] if c["name"] == "config"]
            assert health["status"] == "degraded" and problem["status"] == "unhealthy" and "refused" in problem["last_error"]
            config.write_text(f"shards:\n  - name: fx\n    url: {fx.url}/mcp\n  - name: py\n    url: {py.url}/mcp\n")
            wait_until(lambda: all(c["name"] != "config" for c in httpx2.get(gw.url + "/health").json()["components"]), message="config healthy again")


async def test_listen_stream_brings_list_changes_to_stateless_clients(services, bin_path, tmp_path):
    """2026-07-28 has no session GET stream: a client opens subscriptions/listen and hears of
    catalog changes there (what an MCP 2026 client does to keep its tool list current)."""
    from mcp.server.subscriptions import ToolsListChanged

    fx = start_fixture(services, bin_path)
    py = start_python_shard(services)
    config = tmp_path / "gateway.yaml"
    config.write_text(f"shards:\n  - name: fx\n    url: {fx.url}/mcp\n")
    gw = services("gateway", [str(bin_path / "gateway")], {"GATEWAY_CONFIG": str(config), "GATEWAY_PROBE_INTERVAL": "0.3", "GATEWAY_KEEPALIVE_INTERVAL": "0.3"})
    wait_until(lambda: (shard_status(gw, "fx") or {}).get("status") == "healthy", message="fx healthy")

    async with mcp_client(gw.url + "/mcp") as client:
        assert client.protocol_version == "2026-07-28"
        async with client.listen(tools_list_changed=True, resource_subscriptions=["file:///x"]) as subscription:
            # Tools are honored; resource subscriptions are not offered (resources.subscribe is false).
            assert subscription.honored.tools_list_changed is True and not subscription.honored.resource_subscriptions
            assert "py_greet" not in {t.name for t in (await client.list_tools()).tools}
            config.write_text(f"shards:\n  - name: fx\n    url: {fx.url}/mcp\n  - name: py\n    url: {py.url}/mcp\n")
            with anyio.fail_after(10):
                event = await subscription.__anext__()
            assert isinstance(event, ToolsListChanged)
            assert "py_greet" in {t.name for t in (await client.list_tools()).tools}
            assert "gateway_listen_streams 1" in httpx2.get(gw.url + "/metrics").text

    # Raw: the stream needs an SSE Accept, and a filter.
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
    headers = {"Content-Type": "application/json", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen"}
    body = {"jsonrpc": "2.0", "id": "l-1", "method": "subscriptions/listen", "params": {"notifications": {"toolsListChanged": True}, "_meta": meta}}
    r = httpx2.post(gw.url + "/mcp", headers={**headers, "Accept": "application/json"}, json=body)
    assert r.status_code == 406 and "text/event-stream" in r.json()["error"]["message"]
    r = httpx2.post(gw.url + "/mcp", headers={**headers, "Accept": "application/json, text/event-stream"}, json={**body, "params": {"_meta": meta}})
    assert r.json()["error"]["code"] == -32602
    # An open listen stream does not hold up shutdown; it ends with the listen request's result.
    frames = []
    with httpx2.Client(timeout=10) as http, http.stream("POST", gw.url + "/mcp", headers={**headers, "Accept": "application/json, text/event-stream"}, json=body) as stream:
        lines = stream.iter_lines()
        for line in lines:
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
                break
        # A quiet stream carries keep-alive comments (clients drop silent streams).
        assert next(line for line in lines if line) == ": keep-alive"
        started = time.monotonic()
        gw.popen.send_signal(15)
        for line in lines:
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
    assert time.monotonic() - started < 8
    assert frames[0]["method"] == "notifications/subscriptions/acknowledged"
    assert frames[0]["params"] == {"notifications": {"toolsListChanged": True}, "_meta": {"io.modelcontextprotocol/subscriptionId": "l-1"}}
    assert frames[-1] == {"jsonrpc": "2.0", "id": "l-1", "result": {"resultType": "complete", "_meta": {"io.modelcontextprotocol/subscriptionId": "l-1"}}}


def test_session_stream_keeps_alive_and_sigterm_stops_it(services, bin_path):
    fx = start_fixture(services, bin_path)
    gw = start_gateway(services, bin_path, {"fx": fx.url + "/mcp"}, GATEWAY_KEEPALIVE_INTERVAL="0.3")
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    session = httpx2.post(gw.url + "/mcp", headers=MCP_HEADERS, json=init).headers["mcp-session-id"]
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    with httpx2.Client(timeout=10) as http, http.stream("GET", gw.url + "/mcp", headers=headers) as stream:
        assert stream.status_code == 200
        # The quiet session stream carries keep-alive comments (clients drop silent streams).
        assert next(line for line in stream.iter_lines() if line.startswith(":")) == ": keep-alive"
        started = time.monotonic()
        assert gw.stop(timeout=8) is not None
        assert time.monotonic() - started < 8


def test_bad_setting_is_named_at_startup(bin_path):
    import subprocess
    out = subprocess.run([str(bin_path / "gateway")], env={"GATEWAY_PROBE_INTERVAL": "soon", "PORT": str(free_port())}, capture_output=True, text=True, timeout=20)
    assert out.returncode == 2 and "GATEWAY_PROBE_INTERVAL" in out.stderr
    out = subprocess.run([str(bin_path / "gateway")], env={"GATEWAY_SHARDS": "bad name=ftp://x", "PORT": str(free_port())}, capture_output=True, text=True, timeout=20)
    assert out.returncode == 2 and "GATEWAY_SHARDS" in out.stderr


async def test_forwarded_identity_is_ignored_from_untrusted_networks(stack):
    """No GATEWAY_TRUSTED_NETWORKS here: X-OpenWebUI-User-* headers must not become the caller."""
    _, _, gw = stack
    async with mcp_client(gw.url + "/mcp", headers={"X-OpenWebUI-User-Email": "mallory@example.lan"}, mode="legacy") as client:
        assert (await client.call_tool("fx_echo", {"text": "x"})).content[0].text == "x"
    assert "mallory@example.lan" not in gw.log_text()
