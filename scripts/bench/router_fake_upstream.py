"""A minimal, fast OpenAI chat-completions upstream for the router benchmark (raw asyncio HTTP/1.1
with keep-alive), so the upstream's own cost stays small next to what is measured. A request for a
model whose name ends in "-slow" is answered after SLOW_SECONDS, as a real model takes time: many
requests are then in flight at once without the machine's two cores being saturated."""
import asyncio
import json
import sys

SLOW_SECONDS = 0.1

REPLY = json.dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "gpt-4o",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}}).encode()


def chunk(delta, finish=None, usage=None, choices=True):
    c = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "gpt-4o",
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []}
    if usage:
        c["usage"] = usage
    return b"data: " + json.dumps(c).encode() + b"\n\n"


STREAM = (chunk({"role": "assistant", "content": ""}) + chunk({"content": "Hello"}) + chunk({"content": "!"}) + chunk({}, "stop")
          + chunk(None, usage={"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}, choices=False) + b"data: [DONE]\n\n")


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length) if length else b""
            compact = body.replace(b" ", b"")
            if b'-slow"' in compact:
                await asyncio.sleep(SLOW_SECONDS)
            if b'"stream":true' in compact:
                payload, ctype = STREAM, b"text/event-stream"
            else:
                payload, ctype = REPLY, b"application/json"
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: " + ctype + b"\r\ncontent-length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()


asyncio.run(main())
