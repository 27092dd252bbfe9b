"""A shard written with the official Python SDK's server (MCPServer, the 2.x FastMCP), so the
gateway is proven against a server nobody here wrote. Usage: python_shard.py PORT [NAME]"""
import sys

from mcp.server.mcpserver import Context, MCPServer

port = int(sys.argv[1])
name = sys.argv[2] if len(sys.argv) > 2 else "pyshard"
server = MCPServer(name)


@server.tool()
def greet(name: str) -> str:
    """Greets someone by name."""
    return f"Hello, {name}!"


@server.tool()
def echo(text: str) -> str:
    """Same name as the Swift fixture's tool: the gateway's prefixes keep them apart."""
    return f"py:{text}"


@server.tool()
async def count_with_progress(steps: int, ctx: Context) -> str:
    """Reports progress once per step (each step takes a moment, as real work does), then answers."""
    import anyio

    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
        await anyio.sleep(0.05)
    return f"counted {steps}"


@server.prompt()
def summarize(topic: str) -> str:
    """Asks for a summary of a topic."""
    return f"Summarize {topic} in one paragraph."


@server.resource("notes://today")
def today() -> str:
    """Today's notes."""
    return "buy milk"


server.run("streamable-http", host="127.0.0.1", port=port)
