"""The router's pipeline lane (`ChatLane`): non-streamed chat requests to plain-http deployments are
answered on the event loop. These tests prove which requests take it (by its counter) and that what
the client sees is the route's answer: headers, fallbacks after a failed first call, hang-ups,
HTTP/1.1 pipelining order."""
from __future__ import annotations

import json
import re
import socket

import httpx2
import pytest

from conftest import wait_until
from test_router import MASTER, client, fake, router, set_fault, start_router, upstream_requests  # noqa: F401 (fixtures)

ASK = [{"role": "user", "content": "hello there friend, how are you doing"}]
ANALYZE = [{"role": "user", "content": "Please analyze this in detail for me."}]


def lane_count(router, deployment: str) -> int:
    metrics = httpx2.get(router.url + "/metrics").text
    found = re.search(r'^router_fast_lane_requests_total\{deployment="%s"\} (\d+)' % re.escape(deployment), metrics, re.M)
    return int(found.group(1)) if found else 0


def test_non_streamed_requests_take_the_lane_with_the_routes_headers(router, fake):
    c = client(router)
    for model in ["gpt-4o", "claude-sonnet", "gemini-flash"]:
        raw = c.chat.completions.with_raw_response.create(model=model, messages=ASK)
        assert raw.parse().choices[0].message.content.startswith("Hello from ")
        assert raw.headers["x-router-model"] == model and "->" in raw.headers["x-router-reason"]
        assert float(raw.headers["x-router-cost-usd"]) >= 0 and float(raw.headers["x-router-overhead-ms"]) >= 0
        assert raw.headers["content-type"] == "application/json" and "date" in raw.headers
        assert lane_count(router, model) == 1, model
    # Ollama's first request asks /api/show for the model's context on the route; then the lane.
    for _ in range(2):
        assert c.chat.completions.create(model="local", messages=ASK).choices[0].message.content == "Hello from ollama"
    assert lane_count(router, "local") == 1
    # Streams stay on the route.
    list(c.chat.completions.create(model="gpt-4o", messages=ASK, stream=True))
    assert lane_count(router, "gpt-4o") == 1
    usage = httpx2.get(router.url + "/api/v1/usage?group_by=model", headers={"Authorization": f"Bearer {MASTER}"}).json()["data"]
    assert {row["group"]: row["requests"] for row in usage} == {"gpt-4o": 2, "claude-sonnet": 1, "gemini-flash": 1, "local": 2}


def test_a_failed_first_call_goes_on_to_retry_and_fallback(router, fake):
    set_fault(fake, "anthropic", "529", times=2)  # the lane's call and the route's retry
    raw = client(router).chat.completions.with_raw_response.create(model="claude-sonnet", messages=ANALYZE)
    assert raw.parse().choices[0].message.content == "Hello from gemini"
    assert raw.headers["x-router-model"] == "gemini-flash" and "fallback=1 -> gemini-flash" in raw.headers["x-router-reason"]
    assert len(upstream_requests(fake, "anthropic")) == 2 and lane_count(router, "claude-sonnet") == 1


def test_hanging_up_during_the_fallback_cancels_it(router, fake):
    set_fault(fake, "anthropic", "529", times=2)
    set_fault(fake, "gemini", "hang", times=1, seconds=15)
    with pytest.raises(httpx2.TimeoutException):
        httpx2.post(router.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {MASTER}"}, timeout=1.0,
                    json={"model": "claude-sonnet", "messages": ANALYZE})
    wait_until(lambda: any(p.startswith("/gemini/") for p in httpx2.get(fake.url + "/_abandoned").json()),
               timeout=5, message="the fallback's provider call was dropped")
    assert lane_count(router, "claude-sonnet") == 1


def test_with_a_budget_the_lane_checks_the_totals_the_route_read(start_router, fake):
    """Budget totals come from the database: the route reads them, then for a second the lane
    checks them (with this router's own spending added at once) without a query."""
    router = start_router(extra="budgets:\n  daily_usd: 0.0003\n")  # one answer below costs ~0.00023 $
    c = client(router)
    first = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=ANALYZE)
    assert first.headers["x-router-model"] == "claude-sonnet" and lane_count(router, "claude-sonnet") == 0
    second = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=ANALYZE)
    assert second.headers["x-router-model"] == "claude-sonnet" and lane_count(router, "claude-sonnet") == 1
    third = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=ANALYZE)
    assert third.headers["x-router-model"] == "local" and "budget=exceeded -> local" in third.headers["x-router-reason"]


def test_pipelined_requests_are_answered_in_order(router, fake):
    def chat(model: str) -> bytes:
        body = json.dumps({"model": model, "messages": ASK}).encode()
        return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: router\r\nAuthorization: Bearer {MASTER}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    models = f"GET /v1/models HTTP/1.1\r\nHost: router\r\nAuthorization: Bearer {MASTER}\r\n\r\n".encode()
    host, port = router.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(chat("gpt-4o") + models + chat("gemini-flash") + chat("no-such-model"))
        answers = read_responses(sock, 4)
    assert [status for status, _ in answers] == [200, 200, 200, 404]
    assert answers[0][1]["model"] == "gpt-4o" and answers[1][1]["object"] == "list"
    assert answers[2][1]["model"] == "gemini-flash" and answers[3][1]["error"]["code"] == "model_not_found"
    # Behind a request Hummingbird still owes an answer, the rest go to Hummingbird as well.
    assert lane_count(router, "gpt-4o") == 1 and lane_count(router, "gemini-flash") == 0


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, dict]]:
    """`count` HTTP/1.1 answers with Content-Length bodies, in the order they came."""
    data, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
        while len(data) < length:
            data += sock.recv(65536)
        answers.append((int(lines[0].split()[1]), json.loads(data[:length])))
        data = data[length:]
    return answers
