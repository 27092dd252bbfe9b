"""A shard whose tool name is long enough to hit the 64-character budget. Usage: PORT TOOL_NAME"""
import sys

from mcp.server.mcpserver import MCPServer

port, long_name = int(sys.argv[1]), sys.argv[2]
server = MCPServer("long")


def long_tool() -> str:
    return "long ok"


def ping() -> str:
    return "pong"


server.add_tool(long_tool, name=long_name, description="A tool with a very long name.")
server.add_tool(ping, name="ping", description="Answers pong.")
server.run("streamable-http", host="127.0.0.1", port=port)
