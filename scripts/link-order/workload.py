"""What the gateway does on a normal day, driven once while callgrind records which functions run
(scripts/link-order/generate): Open WebUI's auto mode (server/discover, stateless calls), a
2025-11-25 session (initialize, calls, DELETE), the REST form, /health, /metrics, /api/v1/shards."""
import asyncio
import sys

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

BASE = sys.argv[1]


async def use(mode: str) -> None:
    async with httpx2.AsyncClient(timeout=120) as http:
        async with mcp.Client(streamable_http_client(BASE + "/mcp", http_client=http), read_timeout_seconds=120, mode=mode) as client:
            tools = (await client.list_tools()).tools
            assert any(t.name == "fx_echo" for t in tools), [t.name for t in tools]
            for i in range(5):
                result = await client.call_tool("fx_echo", {"text": f"call {i}"})
                assert not result.is_error, result
            try:
                await client.call_tool("fx_no_such_tool", {})
            except mcp.MCPError:
                pass  # the error path is part of a normal day too


async def main() -> None:
    await use("auto")
    await use("legacy")
    async with httpx2.AsyncClient(base_url=BASE, timeout=120) as http:
        for path in ("/health", "/metrics", "/api/v1/shards"):
            (await http.get(path)).raise_for_status()
        (await http.post("/api/v1/mcp/fx/tools/echo", json={"text": "rest"})).raise_for_status()
        await http.post("/mcp", content=b"{not json", headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"})


asyncio.run(main())
