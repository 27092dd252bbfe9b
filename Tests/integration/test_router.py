"""Multi-model router, end to end: the real binary, the official `openai` SDK as client (what Open
WebUI uses), and provider test doubles (servers/fake_llm.py) that speak each native wire format."""
from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import httpx2
import openai
import pytest

from conftest import free_port, wait_until

HERE = Path(__file__).resolve().parent
MASTER = "sk-router-master-test"
KEYS = {"FAKE_OPENAI_KEY": "sk-test-openai", "ANTHROPIC_API_KEY": "sk-ant-test", "GEMINI_API_KEY": "AIza-test-gemini"}


def config_yaml(fake: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        model_list:
          - model_name: gpt-4o
            litellm_params: {{model: openai/gpt-4o, api_base: {fake}/openai/v1, api_key: os.environ/FAKE_OPENAI_KEY}}
            model_info: {{input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001}}
          - model_name: claude-sonnet
            litellm_params: {{model: anthropic/claude-sonnet-4-5, api_base: {fake}/anthropic, api_key: os.environ/ANTHROPIC_API_KEY}}
            model_info: {{input_cost_per_million: 3, output_cost_per_million: 15, cache_read_cost_per_million: 0.3, cache_write_cost_per_million: 3.75}}
          - model_name: claude-haiku
            litellm_params: {{model: anthropic/claude-haiku-4-5, api_base: {fake}/anthropic, api_key: os.environ/ANTHROPIC_API_KEY}}
          - model_name: gemini-flash
            litellm_params: {{model: gemini/gemini-2.5-flash, api_base: {fake}/gemini/v1beta, api_key: os.environ/GEMINI_API_KEY}}
            model_info: {{input_cost_per_million: 0.3, output_cost_per_million: 2.5}}
          - model_name: local
            litellm_params: {{model: ollama_chat/llama3.2, api_base: {fake}/ollama}}
        aliases:
          smart: claude-sonnet
        router_settings:
          num_retries: 1
          retry_max_wait: 0.5
          retry_backoff: 0.05
          allowed_fails: 3
          cooldown_time: 60
          timeout: 10
          first_token_timeout: 1.5
          stream_idle_timeout: 1.5
        litellm_settings:
          fallbacks:
            - claude-sonnet: [gemini-flash]
            - gemini-flash: [gpt-4o]
        """) + extra


@pytest.fixture
def fake(services):
    port = free_port()
    return services("fake-llm", [sys.executable, str(HERE / "servers" / "fake_llm.py"), "--port", str(port)], port=port, health_path="/_health")


@pytest.fixture
def start_router(services, bin_path, fake, tmp_path):
    def start(extra: str = "", env: dict | None = None):
        cfg = tmp_path / "router.yaml"
        cfg.write_text(config_yaml(fake.url, extra))
        return services("router", [str(bin_path / "multi-model-router")],
                        env={"ROUTER_CONFIG": str(cfg), "ROUTER_SQLITE_PATH": str(tmp_path / "usage.sqlite"), "ROUTER_MASTER_KEY": MASTER, "ROUTER_API_KEYS": "n8n=sk-n8n-test", **KEYS, **(env or {})})
    return start


@pytest.fixture
def router(start_router):
    return start_router()


def client(router, key: str = MASTER) -> openai.OpenAI:
    return openai.OpenAI(base_url=router.url + "/v1", api_key=key, max_retries=0, timeout=20)


def upstream_requests(fake, provider: str | None = None) -> list[dict]:
    reqs = httpx2.get(fake.url + "/_requests").json()
    return [r for r in reqs if provider is None or r["provider"] == provider]


def set_fault(fake, provider: str, mode: str, times: int = 1, **kw):
    httpx2.post(fake.url + "/_control", json={"provider": provider, "mode": mode, "times": times, **kw}).raise_for_status()


def collect(stream) -> tuple[str, dict, dict | None, list]:
    """Text, tool calls by index, usage, finish reasons from an SDK stream."""
    text, calls, usage, finishes = "", {}, None, []
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for tc in choice.delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                if tc.function and tc.function.name:
                    entry["name"] = tc.function.name
                entry["arguments"] += (tc.function.arguments or "") if tc.function else ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    return text, calls, usage, finishes


MODELS = {"gpt-4o": "openai", "claude-sonnet": "anthropic", "gemini-flash": "gemini", "local": "ollama"}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}}]


# MARK: - Basics per provider

@pytest.mark.parametrize("model", list(MODELS))
def test_non_streaming_each_provider(router, fake, model):
    provider = MODELS[model]
    raw = client(router).chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write a haiku about routers and more words here to avoid simple."}], max_tokens=50)
    completion = raw.parse()
    assert completion.choices[0].message.content == f"Hello from {provider}"
    assert completion.choices[0].finish_reason == "stop"
    assert raw.headers["x-router-model"] == model
    assert raw.headers["x-router-reason"] == f"requested -> {model}"
    assert float(raw.headers["x-router-overhead-ms"]) >= 0
    [upstream] = upstream_requests(fake, provider)
    assert upstream["auth_ok"]
    body = upstream["body"]
    if provider == "anthropic":
        assert body["system"] == "Be brief." and body["max_tokens"] == 50
        assert [m["role"] for m in body["messages"]] == ["user"]
        assert upstream["headers"]["anthropic-version"] == "2023-06-01"
        # 20 input + 100 cache read + 10 cache write, each at its own price.
        assert completion.usage.prompt_tokens == 130 and completion.usage.prompt_tokens_details.cached_tokens == 100
        expected = 20 * 3e-6 + 7 * 15e-6 + 100 * 0.3e-6 + 10 * 3.75e-6
        assert float(raw.headers["x-router-cost-usd"]) == pytest.approx(expected, abs=1e-6)
    if provider == "gemini":
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["generationConfig"]["maxOutputTokens"] == 50
        assert upstream["path"].endswith("/models/gemini-2.5-flash:generateContent")
        assert completion.usage.completion_tokens == 10  # candidates + thoughts
    if provider == "ollama":
        assert body["options"]["num_ctx"] == 4096 and body["options"]["num_predict"] == 50 and body["stream"] is False
        assert completion.usage.prompt_tokens == 12 and completion.usage.completion_tokens == 4
    if provider == "openai":
        assert body["model"] == "gpt-4o"
        expected = 11 * 2.5e-6 + 5 * 1e-5
        assert float(raw.headers["x-router-cost-usd"]) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("model", list(MODELS))
def test_streaming_with_include_usage_each_provider(router, fake, model):
    provider = MODELS[model]
    raw = client(router).chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "Say hello to everyone in this long enough message please."}],
        stream=True, stream_options={"include_usage": True})
    assert raw.headers["x-router-model"] == model
    assert raw.headers["content-type"].startswith("text/event-stream")
    text, calls, usage, finishes = collect(raw.parse())
    assert text == f"Hello from {provider}"
    assert finishes == ["stop"] and not calls
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens and usage.completion_tokens > 0
    [upstream] = upstream_requests(fake, provider)
    if provider == "gemini":
        assert upstream["path"].endswith(":streamGenerateContent") and upstream["query"] == "alt=sse"
    if provider == "openai":
        assert upstream["body"]["stream_options"] == {"include_usage": True}


# MARK: - Tools across providers

@pytest.mark.parametrize("model", list(MODELS))
def test_tool_calls_multi_turn_each_provider(router, fake, model):
    provider = MODELS[model]
    c = client(router)
    messages = [{"role": "user", "content": "What is the weather in Paris? Use the tool, then analyze it for me."}]
    # Turn 1 streamed: the tool call arrives as OpenAI deltas.
    text, calls, _, finishes = collect(c.chat.completions.create(model=model, messages=messages, tools=TOOLS, stream=True))
    assert finishes == ["tool_calls"]
    call = calls[0]
    assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "Paris"} and call["id"]
    messages += [{"role": "assistant", "content": None, "tool_calls": [{"id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": call["arguments"]}}]},
                 {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    # Turn 2 non-streaming: a second tool call, then the final answer after both results.
    second = c.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    assert "sunny" in second.choices[0].message.content
    last = upstream_requests(fake, provider)[-1]["body"]
    if provider == "gemini":
        model_turn = last["contents"][1]
        assert model_turn["role"] == "model"
        assert model_turn["parts"][0]["functionCall"] == {"name": "get_weather", "args": {"city": "Paris"}}
        assert model_turn["parts"][0]["thoughtSignature"].startswith("gem-sig-")  # echoed from turn 1
        assert last["contents"][2] == {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}}]}
    if provider == "anthropic":
        assistant = last["messages"][1]["content"]
        assert assistant[0]["type"] == "thinking" and assistant[0]["signature"].startswith("anth-sig-")  # kept server-side
        assert assistant[1] == {"type": "tool_use", "id": call["id"], "name": "get_weather", "input": {"city": "Paris"}}
    if provider == "ollama":
        assert last["messages"][2] == {"role": "tool", "content": "sunny", "tool_name": "get_weather"}


def test_gemini_non_streaming_tool_call_signature_echoed(router, fake):
    c = client(router)
    messages = [{"role": "user", "content": "Weather in Paris? Analyze with the tool."}]
    first = c.chat.completions.create(model="gemini-flash", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and call.id.startswith("call_")
    messages += [first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'}]
    second = c.chat.completions.create(model="gemini-flash", messages=messages, tools=TOOLS)
    assert second.choices[0].message.content == 'tool said: {"temp": 21}'


def test_anthropic_parallel_tool_results_merged_into_one_user_message(router, fake):
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome? Analyze both."},
        {"role": "assistant", "content": "Checking both.", "tool_calls": [
            {"id": "toolu_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "toolu_b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}]},
        {"role": "tool", "tool_call_id": "toolu_a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "toolu_b", "content": "rainy"},
    ]
    answer = client(router).chat.completions.create(model="claude-sonnet", messages=messages, tools=TOOLS)
    assert answer.choices[0].message.content == "tool said: sunny + rainy"
    body = upstream_requests(fake, "anthropic")[-1]["body"]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [b["tool_use_id"] for b in body["messages"][2]["content"]] == ["toolu_a", "toolu_b"]


# MARK: - Fallbacks and streaming failures

def test_fallback_on_529_before_first_token_streaming(router, fake):
    set_fault(fake, "anthropic", "529", times=2)  # first try and its retry
    raw = client(router).chat.completions.with_raw_response.create(
        model="claude-sonnet", messages=[{"role": "user", "content": "Please analyze this in detail for me."}], stream=True)
    text, _, _, _ = collect(raw.parse())
    assert text == "Hello from gemini"
    assert raw.headers["x-router-model"] == "gemini-flash"
    assert "fallback=1 -> gemini-flash" in raw.headers["x-router-reason"]
    assert len(upstream_requests(fake, "anthropic")) == 2


def test_429_with_long_retry_after_cools_down_and_falls_back(router, fake):
    set_fault(fake, "anthropic", "429", times=1, retry_after=30)
    c = client(router)
    msg = [{"role": "user", "content": "Please analyze this in detail for me."}]
    first = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=msg)
    assert first.headers["x-router-model"] == "gemini-flash"
    # Retry-After 30 s is longer than we wait: no retry on the same deployment, and it cools down.
    assert len(upstream_requests(fake, "anthropic")) == 1
    second = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=msg)
    assert second.headers["x-router-model"] == "gemini-flash"
    assert len(upstream_requests(fake, "anthropic")) == 1
    health = httpx2.get(router.url + "/health").json()
    assert health["status"] == "degraded"


def test_500_retried_then_succeeds_on_same_deployment(router, fake):
    set_fault(fake, "openai", "500", times=1)
    raw = client(router).chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "hello there friend, how are you doing"}])
    assert raw.headers["x-router-model"] == "gpt-4o" and raw.parse().choices[0].message.content == "Hello from openai"
    assert len(upstream_requests(fake, "openai")) == 2


def test_hang_times_out_and_falls_back(router, fake):
    set_fault(fake, "gemini", "hang", times=2, seconds=20)
    text, _, _, _ = collect(client(router).chat.completions.create(model="gemini-flash", messages=[{"role": "user", "content": "summarize this please"}], stream=True))
    assert text == "Hello from openai"


def test_client_that_hangs_up_cancels_the_upstream_call(router, fake):
    """Open WebUI's stop button on a non-streamed request: the router stops waiting on the
    provider (and paying for tokens nobody reads) instead of finishing the call."""
    set_fault(fake, "openai", "hang", times=1, seconds=15)
    with pytest.raises(httpx2.TimeoutException):
        httpx2.post(router.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER}"}, timeout=0.5,
                    json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there friend, how are you doing"}]})
    wait_until(lambda: httpx2.get(fake.url + "/_abandoned").json() == ["/openai/v1/chat/completions"], timeout=5, message="the provider call was dropped")
    # The router is fine and answers the next request.
    assert client(router).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]).choices[0].message.content == "Hello from openai"


def test_die_before_first_token_falls_back(router, fake):
    set_fault(fake, "anthropic", "die_early", times=2)  # connection breaks after message_start, before any text
    raw = client(router).chat.completions.with_raw_response.create(
        model="claude-sonnet", messages=[{"role": "user", "content": "Please analyze this in detail for me."}], stream=True)
    text, _, _, _ = collect(raw.parse())
    assert text == "Hello from gemini" and raw.headers["x-router-model"] == "gemini-flash"


@pytest.mark.parametrize("model,mode", [("gpt-4o", "die_mid_stream"), ("claude-sonnet", "error_event"), ("claude-sonnet", "die_mid_stream")])
def test_failure_after_first_token_is_in_band_error_without_done(router, fake, model, mode):
    set_fault(fake, MODELS[model], mode, times=5)
    with httpx2.Client(timeout=20) as http:
        with http.stream("POST", router.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER}"},
                         json={"model": model, "stream": True, "messages": [{"role": "user", "content": "Please analyze this for me."}]}) as r:
            assert r.status_code == 200
            lines = [line for line in r.iter_lines() if line]
    data = [line[6:] for line in lines if line.startswith("data: ")]
    assert "[DONE]" not in data
    assert json.loads(data[1])["choices"][0]["delta"]["content"] == "Hello"
    assert "error" in json.loads(data[-1])
    # The SDK surfaces it as an error, not as a clean end.
    with pytest.raises(openai.APIError):
        set_fault(fake, MODELS[model], mode, times=5)
        collect(client(router).chat.completions.create(model=model, messages=[{"role": "user", "content": "Please analyze this for me."}], stream=True))


@pytest.mark.parametrize("model", ["gpt-4o", "claude-sonnet"])
def test_stream_that_stalls_after_first_token_ends_with_in_band_error(router, fake, model):
    """stream_idle_timeout (1.5 s here): a provider that goes quiet mid-stream gets an in-band error
    to the client (never a clean [DONE]) and the router hangs up on it."""
    set_fault(fake, MODELS[model], "stall_mid_stream", times=1, seconds=30)
    started = time.monotonic()
    with httpx2.Client(timeout=20) as http:
        with http.stream("POST", router.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER}"},
                         json={"model": model, "stream": True, "messages": [{"role": "user", "content": "Please analyze this for me."}]}) as r:
            assert r.status_code == 200
            data = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert 1.4 < time.monotonic() - started < 10
    assert "[DONE]" not in data
    assert json.loads(data[1])["choices"][0]["delta"]["content"] == "Hello"
    error = json.loads(data[-1])["error"]
    assert "no data" in error["message"] and "1.5" in error["message"]
    wait_until(lambda: "stall_mid_stream" in httpx2.get(fake.url + "/_abandoned").json(), timeout=5, message="the router hung up on the stalled provider")


def test_all_deployments_failing_gives_openai_error_with_retry_after(router, fake):
    set_fault(fake, "openai", "429", times=5, retry_after=7)
    with pytest.raises(openai.RateLimitError) as info:
        client(router).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello there, this is long enough"}])
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.body["type"] == "rate_limit_error"


# MARK: - Routing rules

@pytest.mark.parametrize("prompt,expected,task", [
    ("Write a python function that parses dates", "claude-sonnet", "code"),
    ("Summarize the following meeting notes for me", "gemini-flash", "summarization"),
    ("Classify the sentiment of this review: great!", "claude-haiku", "classification"),
    ("What is the capital of France?", "local", "simple"),
])
def test_auto_rules(router, fake, prompt, expected, task):
    raw = client(router).chat.completions.with_raw_response.create(model="auto", messages=[{"role": "user", "content": prompt}])
    assert raw.headers["x-router-model"] == expected
    assert raw.headers["x-router-reason"].startswith(f"task={task} ctx=")


def test_auto_long_context_goes_to_gemini(router, fake):
    explain = httpx2.post(router.url + "/v1/route/explain", headers={"Authorization": f"Bearer {MASTER}"},
                          json={"model": "auto", "messages": [{"role": "user", "content": "Analyze this. " + "word " * 100_000}]}).json()
    assert explain["model"] == "gemini-flash" and explain["context_tokens"] > 100_000


def test_route_explain_calls_no_model(router, fake):
    r = httpx2.post(router.url + "/v1/route/explain", headers={"Authorization": f"Bearer {MASTER}"},
                    json={"model": "smart", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200
    explain = r.json()
    assert explain["model"] == "claude-sonnet" and explain["reason"] == "alias smart -> claude-sonnet"
    assert [c["model_name"] for c in explain["candidates"]] == ["claude-sonnet", "gemini-flash"]
    assert upstream_requests(fake) == []


def test_private_data_pins_conversation_to_local(router, fake):
    c = client(router)
    secret = "my card is 4111 1111 1111 1111 and mail bob@example.com"
    history = [{"role": "user", "content": "Let us plan my trip and analyze the costs."}, {"role": "assistant", "content": "Sure."}, {"role": "user", "content": secret}]
    raw = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=history)
    assert raw.headers["x-router-model"] == "local" and raw.headers["x-router-reason"].startswith("private=")
    # Later turn of the same conversation, the private message trimmed away: still local.
    later = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=[history[0], {"role": "user", "content": "and the hotel?"}])
    assert later.headers["x-router-model"] == "local"
    assert upstream_requests(fake, "anthropic") == []
    log = Path(router.log.name).read_text()
    assert "pinned to the local model" in log and "bob@example.com" not in log and "4111" not in log


def test_open_webui_background_task_goes_local(router, fake):
    prompt = "### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history.\n### Chat History:\n<chat_history>\nUSER: hi\n</chat_history>"
    raw = client(router).chat.completions.with_raw_response.create(model="claude-sonnet", messages=[{"role": "user", "content": prompt}])
    assert raw.headers["x-router-model"] == "local" and raw.headers["x-router-reason"] == "background=title -> local"


def test_budget_exceeded_degrades_to_local(start_router, fake):
    router = start_router(extra="budgets:\n  daily_usd: 0.0001\n")
    c = client(router)
    msg = [{"role": "user", "content": "Please analyze this in detail for me."}]
    first = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=msg)
    assert first.headers["x-router-model"] == "claude-sonnet"  # costs ~0.00023 $, over the cap
    second = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=msg)
    assert second.headers["x-router-model"] == "local"
    assert "budget=exceeded -> local" in second.headers["x-router-reason"]


def test_cache_hit_for_deterministic_request(router, fake):
    c = client(router)
    args = dict(model="gpt-4o", messages=[{"role": "user", "content": "Deterministic question, please answer."}], temperature=0)
    first = c.chat.completions.with_raw_response.create(**args)
    second = c.chat.completions.with_raw_response.create(**args)
    assert second.headers.get("x-router-cache") == "hit" and "x-router-cache" not in first.headers
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert len(upstream_requests(fake, "openai")) == 1


def test_usage_report_by_model_and_key(router, fake):
    client(router).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello there, friend of mine"}])
    client(router, "sk-n8n-test").chat.completions.create(model="local", messages=[{"role": "user", "content": "hello there, friend of mine"}])
    by_model = httpx2.get(router.url + "/api/v1/usage?group_by=model", headers={"Authorization": f"Bearer {MASTER}"}).json()["data"]
    assert {g["group"]: g["requests"] for g in by_model} == {"gpt-4o": 1, "local": 1}
    by_key = httpx2.get(router.url + "/api/v1/usage?group_by=key", headers={"Authorization": f"Bearer {MASTER}"}).json()["data"]
    assert {g["group"] for g in by_key} == {"master", "n8n"}
    metrics = httpx2.get(router.url + "/metrics").text
    assert "router_requests_total" in metrics and "router_tokens_total" in metrics


# MARK: - Auth, models, bad input

def test_models_list(router):
    ids = [m.id for m in client(router).models.list()]
    assert ids[:5] == ["gpt-4o", "claude-sonnet", "claude-haiku", "gemini-flash", "local"] and "auto" in ids and "smart" in ids


def test_auth_required(router):
    with pytest.raises(openai.AuthenticationError):
        client(router, "wrong-key").models.list()
    r = httpx2.post(router.url + "/v1/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert MASTER not in r.text


def test_bad_requests_get_openai_errors(router):
    c = client(router)
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="gpt-4o", messages=[])
    assert e.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="gpt-4o", messages="hello")
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "wizard", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], temperature=7)
    with pytest.raises(openai.NotFoundError) as e:
        c.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert e.value.body["code"] == "model_not_found"
    r = httpx2.post(router.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER}"}, content=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    huge = b'{"model":"gpt-4o","messages":[{"role":"user","content":"' + b"a" * (21 << 20) + b'"}]}'
    r = httpx2.post(router.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER}"}, content=huge)
    assert r.status_code == 413 and "larger than" in r.json()["error"]["message"]


def test_config_reload_picks_up_new_model(start_router, fake, tmp_path):
    router = start_router()
    cfg = tmp_path / "router.yaml"
    cfg.write_text(config_yaml(fake.url).replace("  smart: claude-sonnet", "  smart: claude-sonnet\n  quick: local"))
    from conftest import wait_until
    wait_until(lambda: "quick" in [m.id for m in client(router).models.list()], timeout=10, message="alias quick appears")
    # A refused edit keeps the last good config and shows in /health until a good edit replaces it.
    good = cfg.read_text()
    cfg.write_text(good.replace("model_list:", "model_list: 5\nnot_model_list:", 1))
    def config_problem():
        return [c for c in httpx2.get(router.url + "/health").json()["components"] if c["name"] == "config"]
    wait_until(lambda: config_problem(), timeout=10, message="the refused edit shows in /health")
    assert config_problem()[0]["status"] == "unhealthy" and "refused" in config_problem()[0]["last_error"]
    assert "quick" in [m.id for m in client(router).models.list()]
    cfg.write_text(good + "\n")
    wait_until(lambda: not config_problem(), timeout=10, message="config healthy again")


def test_usage_records_persist_in_sqlite_across_restart(start_router, fake, tmp_path):
    router = start_router()
    client(router).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello there, friend of mine"}])
    router.stop()
    router.start()
    data = httpx2.get(router.url + "/api/v1/usage?group_by=day", headers={"Authorization": f"Bearer {MASTER}"}).json()["data"]
    assert len(data) == 1 and data[0]["requests"] == 1 and data[0]["cost_usd"] > 0
    assert (tmp_path / "usage.sqlite").exists()


@pytest.mark.parametrize("model,provider", [("gpt-4o", "openai"), ("gemini-flash", "gemini"), ("local", "ollama")])
def test_embeddings_each_provider(router, fake, model, provider):
    raw = client(router).embeddings.with_raw_response.create(model=model, input=["hello", "hi"], encoding_format="float")
    result = raw.parse()
    assert [d.embedding for d in result.data] == [[5.0, 1.0, 0.5], [2.0, 1.0, 0.5]]
    assert raw.headers["x-router-model"] == model and result.usage.prompt_tokens > 0
    [upstream] = upstream_requests(fake, provider)
    if provider == "gemini":
        assert upstream["path"].endswith("/models/gemini-2.5-flash:batchEmbedContents")
        assert upstream["body"]["requests"][0] == {"model": "models/gemini-2.5-flash", "content": {"parts": [{"text": "hello"}]}}


def test_embeddings_refused_for_anthropic_and_fall_back_on_failure(router, fake):
    with pytest.raises(openai.BadRequestError):
        client(router).embeddings.create(model="claude-sonnet", input="hello")
    set_fault(fake, "gemini", "500", times=2)
    raw = client(router).embeddings.with_raw_response.create(model="gemini-flash", input="hello")
    assert raw.headers["x-router-model"] == "gpt-4o"


def test_usage_in_postgres_and_cache_in_redis(start_router, fake):
    from pg_redis import PostgresServer, RedisServer
    with PostgresServer() as pg, RedisServer() as redis:
        router = start_router(env={"DATABASE_URL": pg.url, "REDIS_URL": redis.url})
        c = client(router)
        args = dict(model="gpt-4o", messages=[{"role": "user", "content": "Deterministic question for redis, please."}], temperature=0)
        c.chat.completions.create(**args)
        second = c.chat.completions.with_raw_response.create(**args)
        assert second.headers.get("x-router-cache") == "hit"
        assert len(upstream_requests(fake, "openai")) == 1
        assert any(k.startswith("router:cache:") for k in redis.cli("KEYS", "router:cache:*").split())
        # Usage is written in the background, in batches at most every 200 ms.
        rows = wait_until(lambda: len(found := pg.query("SELECT chosen_model, outcome, prompt_tokens FROM router_usage ORDER BY id")) == 2 and found,
                          timeout=5, message="both usage rows written")
        assert [r[0] for r in rows] == ["gpt-4o", "gpt-4o"] and [r[1] for r in rows] == ["ok", "cache_hit"]
        assert rows[0][2] == "11"
        assert MASTER not in router.log_text() and "sk-test-openai" not in router.log_text()


@pytest.mark.parametrize("model", ["claude-sonnet", "gemini-flash", "local"])
def test_images_reach_each_provider_natively(router, fake, model):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    content = [{"type": "text", "text": "Describe this picture in detail please."}, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}]
    client(router).chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    body = upstream_requests(fake, MODELS[model])[-1]["body"]
    if model == "claude-sonnet":
        assert body["messages"][0]["content"][1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}}
    elif model == "gemini-flash":
        assert body["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": png}}
    else:
        assert body["messages"][0]["images"] == [png]


def test_rpm_limit_falls_back_and_then_answers_429_with_retry_after(services, bin_path, fake, tmp_path):
    """rpm from the router config (LiteLLM's shape): a deployment at its limit is skipped without
    calling it; with no fallback left the client gets 429 and Retry-After."""
    cfg = tmp_path / "router.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        model_list:
          - model_name: gpt-4o
            litellm_params: {{model: openai/gpt-4o, api_base: {fake.url}/openai/v1, api_key: os.environ/FAKE_OPENAI_KEY, rpm: 1}}
          - model_name: gemini-flash
            litellm_params: {{model: gemini/gemini-2.5-flash, api_base: {fake.url}/gemini/v1beta, api_key: os.environ/GEMINI_API_KEY, rpm: 1}}
        litellm_settings:
          fallbacks:
            - gpt-4o: [gemini-flash]
        """))
    router = services("router", [str(bin_path / "multi-model-router")],
                      env={"ROUTER_CONFIG": str(cfg), "ROUTER_SQLITE_PATH": str(tmp_path / "usage.sqlite"), "ROUTER_MASTER_KEY": MASTER, **KEYS})
    c = client(router)
    msg = [{"role": "user", "content": "hello there, this is long enough"}]
    assert c.chat.completions.with_raw_response.create(model="gpt-4o", messages=msg).headers["x-router-model"] == "gpt-4o"
    assert c.chat.completions.with_raw_response.create(model="gpt-4o", messages=msg).headers["x-router-model"] == "gemini-flash"
    assert len(upstream_requests(fake, "openai")) == 1, "the limited deployment is not called"
    with pytest.raises(openai.RateLimitError) as info:
        c.chat.completions.create(model="gpt-4o", messages=msg)
    assert 1 <= int(info.value.response.headers["retry-after"]) <= 60
    assert info.value.body["type"] == "rate_limit_error" and "rpm/tpm limit" in info.value.body["message"]
    assert len(upstream_requests(fake, "openai")) == 1 and len(upstream_requests(fake, "gemini")) == 1
    metrics = httpx2.get(router.url + "/metrics").text
    assert 'router_local_rate_limited_total{deployment="gpt-4o"}' in metrics
