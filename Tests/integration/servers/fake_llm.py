"""Provider test doubles for the multi-model router: OpenAI chat completions, Anthropic Messages,
Gemini generateContent/streamGenerateContent?alt=sse and Ollama /api/chat, each speaking its
native wire format as /work/shared/specs/llm-wire-formats.md describes, streaming included.

One process serves all four under path prefixes (/openai/v1, /anthropic, /gemini/v1beta, /ollama).
Tests steer it over HTTP:
  POST /_control {"provider": "anthropic", "mode": "429"|"500"|"529"|"hang"|"die_early"|"die_mid_stream"|"stall_mid_stream"|"error_event", "times": 1, "retry_after": 1}
  GET  /_requests            every request received (path, auth headers present, JSON body)
  GET  /_abandoned           paths of hanging requests whose caller hung up
  POST /_reset
Answers: plain text "Hello from <provider>"; with tools and no tool result yet, one call to the first
tool; after a tool result, "tool said: <result>". Requests that break the provider's rules get
the provider's 400, so a wrong translation fails the test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

STATE: dict = {"faults": {}, "requests": [], "signatures": set(), "thinking": {}, "abandoned": []}
KEYS = {"openai": "sk-test-openai", "anthropic": "sk-ant-test", "gemini": "AIza-test-gemini"}


def take_fault(provider: str) -> dict | None:
    fault = STATE["faults"].get(provider)
    if not fault or fault.get("times", 1) <= 0:
        return None
    fault["times"] = fault.get("times", 1) - 1
    return fault


def error_response(provider: str, fault: dict) -> Response | None:
    mode = fault["mode"]
    if mode not in ("429", "500", "529", "503"):
        return None
    status = int(mode)
    headers = {"retry-after": str(fault.get("retry_after", 1))} if status == 429 else {}
    if provider == "anthropic":
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return JSONResponse({"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}, status_code=status, headers=headers)
    if provider == "gemini":
        return JSONResponse({"error": {"code": status, "message": "fake error", "status": "RESOURCE_EXHAUSTED" if status == 429 else "INTERNAL"}}, status_code=status, headers=headers)
    if provider == "ollama":
        return JSONResponse({"error": "fake error"}, status_code=status, headers=headers)
    return JSONResponse({"error": {"message": "fake error", "type": "server_error", "code": None}}, status_code=status, headers=headers)


async def record(request: Request, provider: str) -> dict:
    body = await request.json()
    STATE["requests"].append({"provider": provider, "path": request.url.path, "query": request.url.query,
                              "headers": {k: v for k, v in request.headers.items() if k in ("anthropic-version", "content-type")},
                              "auth_ok": auth_ok(request, provider), "body": body})
    return body


def auth_ok(request: Request, provider: str) -> bool:
    if provider == "openai":
        return request.headers.get("authorization") == "Bearer " + KEYS["openai"]
    if provider == "anthropic":
        return request.headers.get("x-api-key") == KEYS["anthropic"] and request.headers.get("anthropic-version") == "2023-06-01"
    if provider == "gemini":
        return request.headers.get("x-goog-api-key") == KEYS["gemini"]
    return True


def plan(tools: list, last_tool_result: str | None, provider: str) -> tuple[str, dict | None]:
    """What to answer: text, or a call to the first tool."""
    if last_tool_result is not None:
        return f"tool said: {last_tool_result}", None
    if tools:
        return "", {"name": tools[0], "args": {"city": "Paris"}}
    return f"Hello from {provider}", None


async def fault_stream(frames: list[bytes], fault: dict | None, error_frame: bytes | None = None, content_at: int = 1):
    """Yields frames; after frame `content_at` (the first content) `die_mid_stream` breaks the
    connection, `stall_mid_stream` goes quiet for `seconds` (default 30; it stops early when the
    caller hangs up, recorded in /_abandoned) and `error_event` sends the provider's in-band error."""
    for i, frame in enumerate(frames):
        yield frame
        await asyncio.sleep(0.01)
        if fault and fault["mode"] == "die_early" and i == 0:
            raise ConnectionResetError("fake provider died before any content")
        if fault and fault["mode"] == "die_mid_stream" and i == content_at:
            raise ConnectionResetError("fake provider died mid-stream")
        if fault and fault["mode"] == "stall_mid_stream" and i == content_at:
            try:
                await asyncio.sleep(float(fault.get("seconds", 30)))
            except asyncio.CancelledError:
                STATE["abandoned"].append("stall_mid_stream")
                raise
        if fault and fault["mode"] == "error_event" and i == content_at and error_frame:
            yield error_frame
            return


async def maybe_hang(fault: dict | None, request: Request):
    """A hang that notices the caller hanging up (recorded in /_abandoned), as a real provider's
    server stops generating when its client goes away."""
    if fault and fault["mode"] == "hang":
        deadline = time.monotonic() + float(fault.get("seconds", 30))
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                STATE["abandoned"].append(request.url.path)
                return
            await asyncio.sleep(0.05)


def bad(provider: str, message: str) -> Response:
    if provider == "anthropic":
        return JSONResponse({"type": "error", "error": {"type": "invalid_request_error", "message": message}}, status_code=400)
    if provider == "gemini":
        return JSONResponse({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}, status_code=400)
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=400)


# MARK: - OpenAI

async def openai_chat(request: Request) -> Response:
    body = await record(request, "openai")
    if not auth_ok(request, "openai"):
        return JSONResponse({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}, status_code=401)
    fault = take_fault("openai")
    if fault and (r := error_response("openai", fault)):
        return r
    await maybe_hang(fault, request)
    msgs = body["messages"]
    last_tool = msgs[-1]["content"] if msgs[-1]["role"] == "tool" else None
    text, call = plan([t["function"]["name"] for t in body.get("tools", [])], last_tool, "openai")
    cid = "chatcmpl-fake"
    usage = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16, "prompt_tokens_details": {"cached_tokens": 3}}
    if not body.get("stream"):
        message = {"role": "assistant", "content": text or None}
        if call:
            message["tool_calls"] = [{"id": "call_oa1", "type": "function", "function": {"name": call["name"], "arguments": json.dumps(call["args"])}}]
        return JSONResponse({"id": cid, "object": "chat.completion", "created": int(time.time()), "model": body["model"],
                             "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}], "usage": usage})

    def chunk(delta, finish=None, u=None, choices=True):
        c = {"id": cid, "object": "chat.completion.chunk", "created": 0, "model": body["model"],
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []}
        if body.get("stream_options", {}).get("include_usage"):
            c["usage"] = u
        return f"data: {json.dumps(c)}\n\n".encode()

    frames = [chunk({"role": "assistant", "content": ""})]
    if call:
        args = json.dumps(call["args"])
        frames += [chunk({"tool_calls": [{"index": 0, "id": "call_oa1", "type": "function", "function": {"name": call["name"], "arguments": ""}}]}),
                   chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[:5]}}]}),
                   chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[5:]}}]}), chunk({}, "tool_calls")]
    else:
        frames += [chunk({"content": w}) for w in (text[:5], text[5:])] + [chunk({}, "stop")]
    frames += [chunk(None, u=usage, choices=False), b"data: [DONE]\n\n"]
    return StreamingResponse(fault_stream(frames, fault, b'data: {"error": {"message": "fake in-band error"}}\n\n'), media_type="text/event-stream")


# MARK: - Anthropic

async def anthropic_messages(request: Request) -> Response:
    body = await record(request, "anthropic")
    if not auth_ok(request, "anthropic"):
        return JSONResponse({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, status_code=401)
    if "max_tokens" not in body:
        return bad("anthropic", "max_tokens: Field required")
    msgs = body["messages"]
    for i, m in enumerate(msgs):
        if m["role"] not in ("user", "assistant"):
            return bad("anthropic", f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if i > 0 and msgs[i - 1]["role"] == m["role"]:
            return bad("anthropic", "messages: roles must alternate between user and assistant")
        blocks = m["content"] if isinstance(m["content"], list) else []
        uses = [b["id"] for b in blocks if b.get("type") == "tool_use"]
        if uses:
            nxt = msgs[i + 1]["content"] if i + 1 < len(msgs) and isinstance(msgs[i + 1]["content"], list) else []
            results = {b.get("tool_use_id") for b in nxt if b.get("type") == "tool_result"}
            if not set(uses) <= results:
                return bad("anthropic", "tool_use ids were found without tool_result blocks immediately after")
            for u in uses:
                expected = STATE["thinking"].get(u)
                if expected and not any(b.get("type") == "thinking" and b.get("signature") == expected for b in blocks):
                    return bad("anthropic", "thinking blocks must be passed back unmodified with tool_use")
    fault = take_fault("anthropic")
    if fault and (r := error_response("anthropic", fault)):
        return r
    await maybe_hang(fault, request)
    last = msgs[-1]["content"]
    last_tool = None
    if isinstance(last, list):
        results = [b for b in last if b.get("type") == "tool_result"]
        if results:
            last_tool = " + ".join(str(b["content"]) for b in results)
    text, call = plan([t["name"] for t in body.get("tools", [])], last_tool, "anthropic")
    usage = {"input_tokens": 20, "output_tokens": 7, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 10}
    content = []
    tool_id = "toolu_" + uuid.uuid4().hex[:12]
    if call:
        sig = "anth-sig-" + uuid.uuid4().hex[:8]
        STATE["thinking"][tool_id] = sig
        content = [{"type": "thinking", "thinking": "I should call the tool.", "signature": sig},
                   {"type": "tool_use", "id": tool_id, "name": call["name"], "input": call["args"]}]
    else:
        content = [{"type": "text", "text": text}]
    stop = "tool_use" if call else "end_turn"
    if not body.get("stream"):
        return JSONResponse({"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"], "content": content,
                             "stop_reason": stop, "stop_sequence": None, "usage": usage})

    def ev(name, data):
        return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()

    frames = [ev("message_start", {"message": {"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"], "content": [],
                                               "stop_reason": None, "usage": {**usage, "output_tokens": 1}}})]
    if call:
        frames += [ev("content_block_start", {"index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
                   ev("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": "I should call the tool."}}),
                   ev("content_block_delta", {"index": 0, "delta": {"type": "signature_delta", "signature": content[0]["signature"]}}),
                   ev("content_block_stop", {"index": 0}),
                   ev("content_block_start", {"index": 1, "content_block": {"type": "tool_use", "id": tool_id, "name": call["name"], "input": {}}}),
                   ev("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city": '}}),
                   ev("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}}),
                   ev("content_block_stop", {"index": 1})]
        frames.insert(1, b"event: ping\ndata: {\"type\": \"ping\"}\n\n")
    else:
        frames += [ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})]
        frames += [ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": w}}) for w in (text[:5], text[5:])]
        frames += [ev("content_block_stop", {"index": 0})]
    frames += [ev("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 7}}), ev("message_stop", {})]
    return StreamingResponse(fault_stream(frames, fault, ev("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}}), content_at=2), media_type="text/event-stream")


# MARK: - Gemini

async def gemini(request: Request) -> Response:
    body = await record(request, "gemini")
    model, _, method = request.path_params["target"].partition(":")
    if not auth_ok(request, "gemini"):
        return JSONResponse({"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}}, status_code=403)
    stream = method == "streamGenerateContent"
    if method not in ("generateContent", "streamGenerateContent") or (stream and request.query_params.get("alt") != "sse"):
        return bad("gemini", "unsupported method or missing alt=sse")
    for c in body["contents"]:
        if c["role"] not in ("user", "model"):
            return bad("gemini", f"Role '{c['role']}' is not supported. Please use a valid role: MODEL, USER")
        for p in c["parts"]:
            if "functionCall" in p and c["role"] == "model" and p.get("thoughtSignature") not in STATE["signatures"]:
                return bad("gemini", "Function call is missing a thought_signature in functionCall parts.")
    fault = take_fault("gemini")
    if fault and (r := error_response("gemini", fault)):
        return r
    await maybe_hang(fault, request)
    last = body["contents"][-1]["parts"]
    responses = [p["functionResponse"] for p in last if "functionResponse" in p]
    last_tool = " + ".join(json.dumps(r["response"], sort_keys=True) for r in responses) if responses else None
    tools = [d["name"] for t in body.get("tools", []) for d in t.get("functionDeclarations", [])]
    text, call = plan(tools, last_tool, "gemini")
    usage = {"promptTokenCount": 30, "candidatesTokenCount": 6, "totalTokenCount": 40, "thoughtsTokenCount": 4, "cachedContentTokenCount": 8}
    if call:
        sig = "gem-sig-" + uuid.uuid4().hex[:8]
        STATE["signatures"].add(sig)
        parts = [{"functionCall": {"name": call["name"], "args": call["args"]}, "thoughtSignature": sig}]
    else:
        parts = [{"text": text}]
    if not stream:
        return JSONResponse({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                             "usageMetadata": usage, "modelVersion": model, "responseId": "resp-fake"})

    def data(obj):
        return f"data: {json.dumps(obj)}\r\n\r\n".encode()

    if call:
        frames = [data({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "index": 0}]}),
                  data({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}]})]
    else:
        frames = [data({"candidates": [{"content": {"role": "model", "parts": [{"text": w}]}, "index": 0}]}) for w in (text[:5], text[5:])]
    frames.append(data({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage, "modelVersion": model}))
    return StreamingResponse(fault_stream(frames, fault, data({"error": {"code": 500, "message": "fake in-band"}}), content_at=0), media_type="text/event-stream")


# MARK: - Ollama

async def ollama_chat(request: Request) -> Response:
    body = await record(request, "ollama")
    if "num_ctx" not in body.get("options", {}):
        return bad("ollama", "test double: options.num_ctx must be set")
    fault = take_fault("ollama")
    if fault and (r := error_response("ollama", fault)):
        return r
    await maybe_hang(fault, request)
    msgs = body["messages"]
    last_tool = msgs[-1]["content"] if msgs[-1]["role"] == "tool" else None
    tools = [t["function"]["name"] for t in body.get("tools", [])]
    text, call = plan(tools, last_tool, "ollama")
    final = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z", "done": True, "done_reason": "stop", "total_duration": 1000000,
             "load_duration": 1000, "prompt_eval_count": 12, "prompt_eval_duration": 1000, "eval_count": 4, "eval_duration": 1000}
    message = {"role": "assistant", "content": text}
    if call:
        message["tool_calls"] = [{"function": {"name": call["name"], "arguments": call["args"]}}]
    if not body.get("stream", True):
        return JSONResponse({**final, "message": message})
    frames = []
    if call:
        frames.append(json.dumps({"model": body["model"], "created_at": "x", "message": message, "done": False}).encode() + b"\n")
    else:
        frames += [json.dumps({"model": body["model"], "created_at": "x", "message": {"role": "assistant", "content": w}, "done": False}).encode() + b"\n" for w in (text[:5], text[5:])]
    frames.append(json.dumps({**final, "message": {"role": "assistant", "content": ""}}).encode() + b"\n")
    return StreamingResponse(fault_stream(frames, fault, content_at=0), media_type="application/x-ndjson")


async def ollama_show(request: Request) -> Response:
    body = await request.json()
    return JSONResponse({"model_info": {"general.architecture": "llama", "llama.context_length": 8192}, "details": {"family": "llama"}, "model": body.get("model")})


# MARK: - Embeddings

def vector(text: str) -> list[float]:
    return [float(len(text)), 1.0, 0.5]


async def openai_embeddings(request: Request) -> Response:
    body = await record(request, "openai")
    if not auth_ok(request, "openai"):
        return JSONResponse({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, status_code=401)
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return JSONResponse({"object": "list", "model": body["model"], "usage": {"prompt_tokens": 9, "total_tokens": 9},
                         "data": [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(inputs)]})


async def gemini_batch_embed(request: Request) -> Response:
    body = await record(request, "gemini")
    if not auth_ok(request, "gemini"):
        return JSONResponse({"error": {"code": 403, "message": "API key not valid"}}, status_code=403)
    fault = take_fault("gemini")
    if fault and (r := error_response("gemini", fault)):
        return r
    return JSONResponse({"embeddings": [{"values": vector(r["content"]["parts"][0]["text"])} for r in body["requests"]]})


async def ollama_embed(request: Request) -> Response:
    body = await record(request, "ollama")
    return JSONResponse({"model": body["model"], "embeddings": [vector(t) for t in body["input"]], "prompt_eval_count": 6})


# MARK: - Control

async def control(request: Request) -> Response:
    body = await request.json()
    STATE["faults"][body["provider"]] = {"times": 1, **body}
    return JSONResponse({"ok": True})


async def requests_(request: Request) -> Response:
    return JSONResponse(STATE["requests"])


async def abandoned(request: Request) -> Response:
    return JSONResponse(STATE["abandoned"])


async def reset(request: Request) -> Response:
    STATE["faults"].clear()
    STATE["requests"].clear()
    STATE["abandoned"].clear()
    return JSONResponse({"ok": True})


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    Route("/openai/v1/chat/completions", openai_chat, methods=["POST"]),
    Route("/anthropic/v1/messages", anthropic_messages, methods=["POST"]),
    Route("/openai/v1/embeddings", openai_embeddings, methods=["POST"]),
    Route("/gemini/v1beta/models/{model}:batchEmbedContents", gemini_batch_embed, methods=["POST"]),
    Route("/gemini/v1beta/models/{target}", gemini, methods=["POST"]),
    Route("/ollama/api/embed", ollama_embed, methods=["POST"]),
    Route("/ollama/api/chat", ollama_chat, methods=["POST"]),
    Route("/ollama/api/show", ollama_show, methods=["POST"]),
    Route("/_control", control, methods=["POST"]),
    Route("/_requests", requests_),
    Route("/_abandoned", abandoned),
    Route("/_reset", reset, methods=["POST"]),
    Route("/_health", health),
])

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
