"""pr-automation against a GitHub REST double that answers as GitHub does (github_double.py),
with every route and body field checked against GitHub's own route table (ghapi's gh_spec)."""
from __future__ import annotations

import concurrent.futures
import re
import secrets
import time
from pathlib import Path

import httpx2
import pytest
import yaml

from github_double import GitHubDouble

OWNER, REPO = "homelab", "infra"


@pytest.fixture
def github():
    token = "github_pat_" + secrets.token_hex(20)
    double = GitHubDouble(owner=OWNER, repo=REPO, tokens={token}).start()
    double.token = token
    yield double
    double.stop()
    # Whatever the test did, every request the bot sent must be a real GitHub request.
    double.check_requests_against_spec()


def start_bot(services, bin_path, github, tmp_path: Path, **extra):
    token_file = tmp_path / "github-token"
    token_file.write_text(github.token + "\n")
    env = {
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": f"{OWNER}/{REPO}",
        "GITHUB_TOKEN_FILE": str(token_file),
        "LOG_LEVEL": "trace",
        "PR_SQLITE_PATH": str(tmp_path / "pr.sqlite"),
        "GITHUB_RETRY_BACKOFF": "0.1",
        "GITHUB_SECONDARY_BACKOFF": "0.5",
        **extra,
    }
    return services("pr-automation", [str(bin_path / "pr-automation")], env)


def health_components(bot) -> tuple[str, dict]:
    health = httpx2.get(bot.url + "/health", timeout=10).json()
    return health["status"], {c["name"]: c for c in health["components"]}


def announce(bot, name="dozzle", port=9140, **extra):
    body = {"server_name": name, "type": "shard", "endpoint": f"http://{name}-shard:{port}/mcp", "capabilities": ["tools"], **extra}
    return httpx2.post(bot.url + "/api/v1/create-pr", json=body, timeout=60)


def test_double_serves_only_githubs_routes():
    GitHubDouble.check_routes_against_spec()


def test_same_service_three_times_gives_one_branch_one_pr_one_commit(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    replies = [announce(bot) for _ in range(3)]
    assert [r.status_code for r in replies] == [201, 200, 200], [r.text for r in replies]
    ops = [r.json()["operation"] for r in replies]
    assert ops == ["created", "unchanged", "unchanged"]
    assert {r.json()["pr_number"] for r in replies} == {1}
    assert github.branches() == ["auto/add-mcp-dozzle", "main"]
    assert len(github.pulls) == 1
    assert len(github.branch_commits("auto/add-mcp-dozzle")) == 1
    pull = github.pulls[0]
    assert pull.title == "[Auto] Add MCP server: dozzle"
    assert set(pull.labels) == {"auto-generated", "mcp-infrastructure"}
    assert set(github.labels) == {"auto-generated", "mcp-infrastructure"}
    assert re.search(r"<!-- pr-automation:service=dozzle fingerprint=[0-9a-f]{64} -->", pull.body)
    status, components = health_components(bot)
    assert status == "ok" and components["github"]["status"] == "healthy" and components["github"]["endpoint"] == github.url
    assert components["records"]["status"] == "healthy" and components["records"]["endpoint"] == "sqlite"
    for text in ("`dozzle`", "`shard`", "`http://dozzle-shard:9140/mcp`", "`tools`"):
        assert text in pull.body
    # The manifest: a Compose service block with the discovery labels, on the branch only.
    manifest = yaml.safe_load(github.file("auto/add-mcp-dozzle", "services/dozzle/compose.yaml"))
    labels = manifest["services"]["dozzle"]["labels"]
    assert labels["mcp.enable"] == "true" and labels["mcp.name"] == "dozzle"
    assert labels["mcp.port"] == "9140" and labels["mcp.path"] == "/mcp"
    assert github.file("main", "services/dozzle/compose.yaml") is None
    assert not [r for r in github.writes() if "main" in (r.body or {}).get("branch", "") or r.path.endswith("heads/main")]
    prs = httpx2.get(bot.url + "/api/v1/prs").json()["prs"]
    assert [(p["service"], p["pr_number"], p["state"], p["branch"]) for p in prs] == [("dozzle", 1, "open", "auto/add-mcp-dozzle")]


def test_concurrent_announcements_still_one_pr(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: announce(bot, "gitea"), range(4)))
    assert sorted(r.json()["operation"] for r in replies) == ["created", "unchanged", "unchanged", "unchanged"]
    assert len(github.pulls) == 1 and len(github.branch_commits("auto/add-mcp-gitea")) == 1


def test_changed_endpoint_updates_the_same_pr(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    first = announce(bot, port=9140).json()
    second = announce(bot, port=9141).json()
    assert (first["operation"], second["operation"]) == ("created", "updated")
    assert first["pr_number"] == second["pr_number"] == 1
    assert first["fingerprint"] != second["fingerprint"]
    assert len(github.pulls) == 1
    assert len(github.branch_commits("auto/add-mcp-dozzle")) == 2
    assert f"fingerprint={second['fingerprint']}" in github.pulls[0].body
    assert "9141" in github.pulls[0].body
    assert b'mcp.port: "9141"' in github.file("auto/add-mcp-dozzle", "services/dozzle/compose.yaml")
    # The update sent the blob sha of the file it replaced.
    puts = [r for r in github.requests if r.verb == "PUT"]
    assert "sha" not in puts[0].body and len(puts[1].body["sha"]) == 40


def test_declined_pr_stays_closed(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    assert announce(bot).json()["operation"] == "created"
    github.close_pull(1)
    writes_before = len(github.writes())
    again = announce(bot)
    assert again.status_code == 200 and again.json()["operation"] == "declined" and again.json()["pr_number"] == 1
    assert github.pulls[0].state == "closed" and len(github.pulls) == 1
    assert len(github.writes()) == writes_before, "a declined proposal must not touch GitHub"
    assert httpx2.get(bot.url + "/api/v1/prs").json()["prs"][0]["state"] == "declined"
    # New details are a new proposal: a new PR from the same branch, started again from main.
    changed = announce(bot, port=9999).json()
    assert changed["operation"] == "created" and changed["pr_number"] == 2
    assert github.pulls[0].state == "closed"
    assert len(github.branch_commits("auto/add-mcp-dozzle")) == 1


def test_merged_content_is_unchanged(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    announce(bot)
    github.merge_pull(1)
    writes_before = len(github.writes())
    reply = announce(bot).json()
    assert reply["operation"] == "unchanged" and reply["pr_number"] == 1
    assert len(github.writes()) == writes_before and len(github.pulls) == 1


def test_state_is_recovered_from_github_when_the_database_is_lost(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    announce(bot, "dozzle")
    announce(bot, "gitea")
    github.close_pull(2)
    bot.stop()
    lost = tmp_path / "lost"
    lost.mkdir()
    # A fresh bot with an empty database.
    bot2 = start_bot(services, bin_path, github, lost)
    prs = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(prs) < 2:
        prs = {p["service"]: p for p in httpx2.get(bot2.url + "/api/v1/prs").json()["prs"]}
        time.sleep(0.1)
    assert prs["dozzle"]["state"] == "open" and prs["dozzle"]["pr_number"] == 1
    assert prs["gitea"]["state"] == "declined" and prs["gitea"]["pr_number"] == 2
    assert announce(bot2, "dozzle").json()["operation"] == "unchanged"
    assert announce(bot2, "gitea").json()["operation"] == "declined"
    assert len(github.pulls) == 2 and len(github.branch_commits("auto/add-mcp-dozzle")) == 1


def test_existing_pr_found_after_422_is_updated(services, bin_path, github, tmp_path):
    """Another run opened the PR between the bot's lookup and its create: GitHub answers 422
    "A pull request already exists for ..." and the bot adopts that PR."""
    bot = start_bot(services, bin_path, github, tmp_path)
    github.requests.clear()
    # Hide the PR from the first state=all lookup only, as a race would.
    original = github.list_pulls
    calls = {"n": 0}

    def racing_list(params, query, body):
        calls["n"] += 1
        if calls["n"] == 1 and query.get("state") == "all":
            from github_double import Pull
            github.refs["heads/auto/add-mcp-dozzle"] = github.refs["heads/main"]
            github.pulls.append(Pull(1, "manual", "opened by a person", "auto/add-mcp-dozzle", "main"))
            return 200, []
        return original(params, query, body)

    github.list_pulls = racing_list
    reply = announce(bot).json()
    assert reply["operation"] == "updated" and reply["pr_number"] == 1
    assert len(github.pulls) == 1 and github.pulls[0].title == "[Auto] Add MCP server: dozzle"
    assert "pr-automation:service=dozzle" in github.pulls[0].body


def test_rate_limited_github_delays_then_succeeds(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    github.rate_limit_next("GET", r"/pulls\?head=", reset_in=2)
    github.fail_next("POST", r"/pulls$", 429, "You have exceeded a secondary rate limit.", headers={"retry-after": "1"})
    github.fail_next("PUT", r"/contents/", 403, "You have exceeded a secondary rate limit and have been temporarily blocked from content creation.")
    github.fail_next("POST", r"/git/refs$", 502, "Server Error")
    started = time.monotonic()
    reply = announce(bot)
    elapsed = time.monotonic() - started
    assert reply.status_code == 201, reply.text
    assert reply.json()["operation"] == "created"
    # x-ratelimit-reset (>= 1 s), retry-after 1 s, secondary backoff 0.5 s, 5xx backoff 0.1 s.
    assert elapsed >= 2.5, elapsed
    statuses = [r.status for r in github.requests]
    assert 403 in statuses and 429 in statuses and 502 in statuses
    assert len(github.pulls) == 1 and len(github.branch_commits("auto/add-mcp-dozzle")) == 1
    assert "GitHub rate limit, waiting" in bot.log_text()


def test_rate_limit_longer_than_allowed_fails_clearly(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path, GITHUB_MAX_RATE_LIMIT_WAIT="5")
    github.rate_limit_next("GET", r"/pulls\?head=", reset_in=3600)
    reply = announce(bot)
    assert reply.status_code == 503
    assert "GITHUB_MAX_RATE_LIMIT_WAIT" in reply.json()["error"]["message"]


def test_clear_errors_for_bad_token_missing_repo_and_missing_base(services, bin_path, github, tmp_path):
    bad_token = tmp_path / "bad"
    bad_token.mkdir()
    real = github.token
    github.token = "github_pat_wrong"
    bot = start_bot(services, bin_path, github, bad_token)
    github.token = real
    reply = announce(bot)
    assert reply.status_code == 502
    message = reply.json()["error"]["message"]
    assert "401" in message and "GITHUB_TOKEN" in message and "github_pat_wrong" not in message
    # /health tells what the last GitHub request met, without the token.
    status, components = health_components(bot)
    assert status == "degraded" and components["github"]["status"] == "unhealthy" and "401" in components["github"]["last_error"]
    assert "github_pat_wrong" not in httpx2.get(bot.url + "/health").text
    bot.stop()

    other = tmp_path / "other"
    other.mkdir()
    bot = start_bot(services, bin_path, github, other, GITHUB_REPOSITORY="homelab/missing")
    reply = announce(bot)
    assert reply.status_code == 502 and "homelab/missing was not found" in reply.json()["error"]["message"]
    bot.stop()

    base = tmp_path / "base"
    base.mkdir()
    bot = start_bot(services, bin_path, github, base, GITHUB_BASE_BRANCH="production")
    reply = announce(bot)
    assert reply.status_code == 502 and "base branch 'production' does not exist" in reply.json()["error"]["message"]
    assert github.branches() == ["main"] and not github.pulls


@pytest.mark.parametrize("body, fragment", [
    ({"server_name": "../etc", "endpoint": "http://x:1/mcp"}, "server_name"),
    ({"server_name": "Dozzle", "endpoint": "http://x:1/mcp"}, "server_name"),
    ({"server_name": "dozzle", "endpoint": "file:///etc/passwd"}, "endpoint"),
    ({"server_name": "dozzle", "endpoint": "http://x:1/mcp\"\n  evil: 1"}, "endpoint"),
    ({"server_name": "dozzle", "endpoint": "http://x:1/mcp", "capabilities": ["tools; rm"]}, "capabilities"),
    ({"server_name": "dozzle", "endpoint": "http://x:1/mcp", "description": "two\nlines"}, "description"),
    ({"endpoint": "http://x:1/mcp"}, "server_name"),
])
def test_bad_input_is_refused_before_github(services, bin_path, github, tmp_path, body, fragment):
    bot = start_bot(services, bin_path, github, tmp_path)
    reply = httpx2.post(bot.url + "/api/v1/create-pr", json=body)
    assert reply.status_code == 400 and fragment in reply.json()["error"]["message"]
    assert not github.writes()
    assert httpx2.post(bot.url + "/api/v1/create-pr", content=b"not json").status_code == 400


def test_dry_run_renders_without_touching_github(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    reply = announce(bot, "adguard", 9150, dry_run=True, description='Ad "blocking"', capabilities=["tools", "resources"])
    assert reply.status_code == 200
    data = reply.json()
    assert data["operation"] == "dry_run" and data["branch"] == "auto/add-mcp-adguard"
    [rendered] = data["files"]
    assert rendered["path"] == "services/adguard/compose.yaml"
    labels = yaml.safe_load(rendered["content"])["services"]["adguard"]["labels"]
    assert labels["mcp.description"] == 'Ad "blocking"' and labels["mcp.capabilities"] == "tools,resources"
    assert not github.writes() and not github.pulls


def test_kubernetes_template_and_path(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path, PR_TEMPLATE="kubernetes", PR_PATH_TEMPLATE="k8s/apps/{name}.yaml")
    assert announce(bot, "proxmox", 9160).json()["operation"] == "created"
    docs = list(yaml.safe_load_all(github.file("auto/add-mcp-proxmox", "k8s/apps/proxmox.yaml")))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    assert docs[0]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 9160
    assert docs[1]["metadata"]["annotations"]["mcp.path"] == "/mcp"


def test_bad_settings_exit_2_with_one_line(bin_path, tmp_path):
    import subprocess
    base = {"PATH": "/usr/bin:/bin", "GITHUB_REPOSITORY": "homelab/infra", "GITHUB_TOKEN": "x"}
    cases = [
        ({"GITHUB_REPOSITORY": "not-a-repo"}, "GITHUB_REPOSITORY"),
        ({"GITHUB_TOKEN": ""}, "GITHUB_TOKEN"),
        ({"PR_PATH_TEMPLATE": "../outside/{name}.yaml"}, "PR_PATH_TEMPLATE"),
        ({"PR_PATH_TEMPLATE": "services/compose.yaml"}, "PR_PATH_TEMPLATE"),
        ({"PR_TEMPLATE": str(tmp_path / "nope.yaml")}, "PR_TEMPLATE"),
        ({"GITHUB_APP_ID": "123", "GITHUB_APP_PRIVATE_KEY_FILE": str(tmp_path / "nokey.pem")}, "GITHUB_APP_PRIVATE_KEY_FILE"),
    ]
    for extra, variable in cases:
        out = subprocess.run([str(bin_path / "pr-automation")], env={**base, **extra}, capture_output=True, text=True, timeout=20)
        assert out.returncode == 2, (extra, out.stderr)
        assert variable in out.stderr and out.stderr.count("\n") == 1, out.stderr


# MARK: - GitHub App authentication


@pytest.fixture
def app_github(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(pem)
    double = GitHubDouble(owner=OWNER, repo=REPO, app_id="123456", app_public_key_pem=public).start()
    double.key_file = key_file
    yield double
    double.stop()
    double.check_requests_against_spec()


def test_github_app_jwt_and_cached_installation_token(services, bin_path, app_github, tmp_path):
    env = {
        "GITHUB_API_URL": app_github.url, "GITHUB_REPOSITORY": f"{OWNER}/{REPO}", "LOG_LEVEL": "trace",
        "GITHUB_APP_ID": "123456", "GITHUB_APP_PRIVATE_KEY_FILE": str(app_github.key_file),
        "PR_SQLITE_PATH": str(tmp_path / "pr.sqlite"),
    }
    bot = services("pr-automation", [str(bin_path / "pr-automation")], env)
    before = time.time()
    assert announce(bot).json()["operation"] == "created"
    assert announce(bot, "gitea").json()["operation"] == "created"
    # The JWT verified with the App's public key (the double checks RS256 and the issuer) for the
    # installation lookup and the token; the installation token is cached for the next flows.
    assert len(app_github.jwt_claims) == 2 and len(app_github.issued_tokens) == 1
    claims = app_github.jwt_claims[0]
    assert claims["iss"] == "123456"
    assert before - 75 <= claims["iat"] <= before - 45
    assert 0 < claims["exp"] - claims["iat"] <= 600 and claims["exp"] > time.time()
    # Installation looked up from the repository, then the token used for every repository call.
    app_routes = [r.template for r in app_github.requests if r.template.startswith("/app") or r.template.endswith("/installation")]
    assert app_routes[:2] == ["/repos/{owner}/{repo}/installation", "/app/installations/{installation_id}/access_tokens"]
    token = app_github.issued_tokens[0]["token"]
    repo_calls = [r for r in app_github.requests if r.template.startswith("/repos") and not r.template.endswith("/installation")]
    assert repo_calls and all(r.authorization == f"Bearer {token}" for r in repo_calls)
    bot.stop()
    log = Path(bot.log.name).read_text()
    assert token not in log
    jwt_prefix = app_github.requests[0].authorization.removeprefix("Bearer ")[:40]
    assert jwt_prefix not in log
    assert "BEGIN" not in log and app_github.key_file.read_text().splitlines()[1][:30] not in log


def test_no_token_in_any_log_line(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    announce(bot)
    announce(bot, port=9141)
    github.rate_limit_next("GET", r"/pulls\?head=", reset_in=1)
    announce(bot, "gitea")
    github.fail_next("GET", r"/pulls\?head=", 401, "Bad credentials")
    announce(bot, "bad")
    bot.stop()
    log = Path(bot.log.name).read_text()
    assert "trace" in log and "GitHub request" in log, "LOG_LEVEL=trace must log every GitHub request"
    assert github.token not in log
    assert github.token[-12:] not in log


# MARK: - Records in the database


def test_records_survive_a_restart_in_sqlite(services, bin_path, github, tmp_path):
    bot = start_bot(services, bin_path, github, tmp_path)
    announce(bot, "dozzle")
    bot.stop()
    assert (tmp_path / "pr.sqlite").exists()
    github.requests.clear()
    # Same SQLite file, and GitHub unreachable for reads of PR lists: the records come from the file.
    github.fail_next("GET", r"/pulls", 404, "Not Found", times=100)
    bot2 = start_bot(services, bin_path, github, tmp_path)
    [record] = httpx2.get(bot2.url + "/api/v1/prs").json()["prs"]
    assert (record["service"], record["pr_number"], record["state"]) == ("dozzle", 1, "open")
    assert record["url"] == "https://github.com/homelab/infra/pull/1" and len(record["fingerprint"]) == 64
    assert record["created_at"] <= record["updated_at"]


def test_records_in_postgresql_when_database_url_is_set(services, bin_path, github, tmp_path):
    from pg_redis import PostgresServer

    with PostgresServer() as pg:
        bot = start_bot(services, bin_path, github, tmp_path, DATABASE_URL=pg.url)
        announce(bot, "dozzle")
        announce(bot, "dozzle", port=9141)
        github.close_pull(1)
        announce(bot, "dozzle", port=9141)
        rows = pg.query("SELECT repository, service, branch, pr_number, state FROM pr_automation_records")
        assert rows == [["homelab/infra", "dozzle", "auto/add-mcp-dozzle", "1", "declined"]]
        assert not (tmp_path / "pr.sqlite").exists()
        bot.stop()
        assert pg.password not in Path(bot.log.name).read_text()


def test_database_down_does_not_stop_pull_requests(services, bin_path, github, tmp_path):
    from pg_redis import PostgresServer

    with PostgresServer() as pg:
        bot = start_bot(services, bin_path, github, tmp_path, DATABASE_URL=pg.url)
        pg.stop()
        reply = announce(bot, "dozzle")
        assert reply.status_code == 201 and reply.json()["operation"] == "created"
        prs = httpx2.get(bot.url + "/api/v1/prs", timeout=30)
        assert prs.status_code == 503 and "database is unavailable" in prs.json()["error"]["message"]
        assert "could not save the PR record" in bot.log_text()
        status, components = health_components(bot)
        assert status == "degraded" and components["records"]["status"] == "unhealthy" and components["records"]["endpoint"] == "postgres"
        pg.start()
        # GitHub decides, the database only remembers: the next announcement is unchanged and recorded.
        assert announce(bot, "dozzle").json()["operation"] == "unchanged"
        [record] = httpx2.get(bot.url + "/api/v1/prs", timeout=30).json()["prs"]
        assert (record["service"], record["pr_number"], record["state"]) == ("dozzle", 1, "open")
        assert health_components(bot)[1]["records"]["status"] == "healthy"
        bot.stop()
        assert pg.password not in Path(bot.log.name).read_text()
