"""scripts/new-shard and template/: a new shard in one command, refusals that change nothing, the
template's layout equal to the Traefik shard's, and the seed's usability check: in a copy of the
repository, `scripts/new-shard dozzle`, build, start it and the gateway, and see `dozzle_*` tools
listed and callable through the Python MCP client (as Open WebUI connects).

The build in the copy is the slow part (a cold debug build of the whole package). The copy and
its build folder live in `.build-newshard/` (git-ignored) at a fixed path, so a second run only
recompiles what changed."""
from __future__ import annotations

import hashlib
import http.server
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from importlib.machinery import SourceFileLoader
from pathlib import Path

import httpx2
import pytest
import yaml

from conftest import ROOT, mcp_client, wait_until
from test_deployment import compose_validator

pytestmark = pytest.mark.anyio

SCRIPT = ROOT / "scripts" / "new-shard"
WORKSPACE = ROOT / ".build-newshard"


def load_generator():
    spec = importlib.util.spec_from_loader("new_shard", SourceFileLoader("new_shard", str(SCRIPT)))
    module = importlib.util.module_from_spec(spec)
    sys.modules["new_shard"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


generator = load_generator()


def copy_repository(destination: Path) -> Path:
    """The working tree as git sees it (tracked and untracked, not ignored), with file times kept
    so an existing build folder stays valid for unchanged files."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return destination


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def new_shard(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(repo / "scripts" / "new-shard"), *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


@pytest.fixture
def repo(tmp_path) -> Path:
    return copy_repository(tmp_path / "repo")


# MARK: Without building

def test_template_layout_is_the_traefik_shards():
    """Every file the template gives a shard exists at the same place in the Traefik shard, and
    the Traefik shard's targets are wired the way the script wires a new one."""
    traefik = generator.Shard(name="traefik", port=9110, description="d", docs_url="", title="Traefik")
    expected = set(generator.template_files(traefik))
    missing = sorted(path for path in expected if not (ROOT / path).is_file())
    assert not missing, f"the Traefik shard lacks the template's files: {missing}"
    assert {"Services/traefik-shard/TraefikShard/TraefikSettings.swift", "Services/traefik-shard/TraefikShard/StatusTool.swift",
            "Services/traefik-shard/TraefikShard/DocsTool.swift", "Services/traefik-shard/TraefikShardMain/main.swift",
            "Tests/TraefikShardTests/TraefikShardTests.swift", "docs/shards/traefik.md",
            "deploy/kubernetes/traefik-shard.yaml"} <= expected
    package = (ROOT / "Package.swift").read_text()
    for entry in generator.package_entries(traefik).values():
        for kind, name, path in re.findall(r'\.(\w+)\(name: "([\w-]+)".*?(?:path: "([^"]+)")?, ?(?:swiftSettings|targets)', entry):
            assert re.search(rf'\.{kind}\(name: "{name}"', package), f"Package.swift has no {kind} {name}"
            if path:
                assert f'path: "{path}"' in package
    # The Traefik shard's Compose service carries every label of the template's.
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    template = yaml.safe_load(traefik.render((ROOT / "template" / "compose.yaml.template").read_text()))
    assert set(template["services"]["traefik-shard"]["labels"]) <= set(compose["services"]["traefik-shard"]["labels"])
    assert "traefik=http://traefik-shard:9110/mcp" in compose["services"]["gateway"]["environment"]["GATEWAY_SHARDS"].split(",")


def test_refusals_change_nothing(repo: Path):
    before = tree_digest(repo)
    cases = {
        ("Dozzle",): "not a valid shard name",
        ("doz_zle",): "not a valid shard name",
        ("9lives",): "not a valid shard name",
        ("../evil",): "not a valid shard name",
        ("dozzle-shard",): "without '-shard'",
        ("a" * 20,): "64-character budget",
        ("traefik",): "already exists",
        ("gateway",): "taken by the suite",
        ("dozzle", "--port", "9110"): "already used",
        ("dozzle", "--port", "80"): "between 1024 and 65535",
        ("dozzle", "--docs-url", "javascript:alert(1)"): "--docs-url",
        ("dozzle", "--description", "two\nlines"): "one line",
    }
    for args, reason in cases.items():
        result = new_shard(repo, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert reason in result.stderr and "Nothing was changed" in result.stderr, (args, result.stderr)
    assert tree_digest(repo) == before


def test_a_failure_halfway_puts_every_file_back(repo: Path):
    before = tree_digest(repo)
    directories = {p for p in repo.rglob("*") if p.is_dir()}
    for writes in (0, 3, 10, 12):  # inside the new files, and between the edits of existing ones
        result = new_shard(repo, "dozzle", env={"NEW_SHARD_FAIL_AFTER_WRITES": str(writes)})
        assert result.returncode == 1, result.stderr
        assert "put back" in result.stderr
        assert tree_digest(repo) == before, f"files changed after a failure at write {writes}"
        assert {p for p in repo.rglob("*") if p.is_dir()} == directories, "no folder is left behind"


def test_remove_undoes_a_shard_exactly_and_leaves_the_others(repo: Path):
    before = tree_digest(repo)
    assert new_shard(repo, "dozzle").returncode == 0
    assert new_shard(repo, "adguard-home").returncode == 0
    with_both = tree_digest(repo)
    result = new_shard(repo, "--remove", "dozzle")
    assert result.returncode == 0, result.stderr
    assert "gen-env-example" in result.stdout
    assert not (repo / "Services" / "dozzle-shard").exists() and not (repo / "Tests" / "DozzleShardTests").exists()
    compose = yaml.safe_load((repo / "compose.yaml").read_text())
    assert not list(compose_validator().iter_errors(compose))
    assert "dozzle-shard" not in compose["services"] and "adguard-home-shard" in compose["services"]
    assert [e.split("=")[0] for e in compose["services"]["gateway"]["environment"]["GATEWAY_SHARDS"].split(",")] == ["traefik", "adguard-home"]
    package = (repo / "Package.swift").read_text()
    assert "DozzleShard" not in package and "dozzle-shard" not in package
    assert all(f'name: "{t}"' in package for t in ("AdguardHomeShard", "AdguardHomeShardMain", "AdguardHomeShardTests", "adguard-home-shard"))
    assert "dozzle" not in (repo / "deploy" / "local-shards").read_text()
    assert "dozzle" not in (repo / "deploy" / "kubernetes" / "kustomization.yaml").read_text()
    # Refusals change nothing: the built-in shard, a shard that is not there, a bad name.
    now = tree_digest(repo)
    for args, reason in {("traefik",): "part of the suite", ("dozzle",): "no shard named", ("../evil",): "not a valid shard name"}.items():
        result = new_shard(repo, "--remove", *args)
        assert result.returncode == 2 and reason in result.stderr and "Nothing was changed" in result.stderr, result.stderr
    assert tree_digest(repo) == now
    # Removing the other one too gives back the repository as it was, byte for byte.
    assert new_shard(repo, "--remove", "adguard-home").returncode == 0
    assert tree_digest(repo) == before and with_both != before


def test_new_shard_wires_everything_once_and_compose_stays_valid(repo: Path):
    result = new_shard(repo, "dozzle", "--description", 'Dozzle: "live" container logs', "--docs-url", "https://dozzle.dev/guide/")
    assert result.returncode == 0, result.stderr
    assert "Next:" in result.stdout and "dozzle-shard" in result.stdout
    after_first = tree_digest(repo)

    compose = yaml.safe_load((repo / "compose.yaml").read_text())
    errors = list(compose_validator().iter_errors(compose))
    assert not errors, [e.message for e in errors]
    service = compose["services"]["dozzle-shard"]
    port = int(service["environment"]["PORT"])
    assert 9140 <= port < 9200
    assert service["build"]["args"]["PRODUCT"] == "dozzle-shard"
    assert service["labels"]["mcp.enable"] == "true" and service["labels"]["mcp.name"] == "dozzle"
    assert service["labels"]["mcp.port"] == str(port) and service["labels"]["mcp.path"] == "/mcp"
    assert service["labels"]["mcp.description"] == 'Dozzle: "live" container logs'
    assert service["networks"] == ["mcp"] and service["logging"]["driver"] == "json-file", "the suite's defaults apply"
    assert f"dozzle=http://dozzle-shard:{port}/mcp" in compose["services"]["gateway"]["environment"]["GATEWAY_SHARDS"].split(",")

    package = (repo / "Package.swift").read_text()
    for needle in ('.executable(name: "dozzle-shard", targets: ["DozzleShardMain"])', '.target(name: "DozzleShard"',
                   '.executableTarget(name: "DozzleShardMain"', '.testTarget(name: "DozzleShardTests"'):
        assert package.count(needle) == 1, needle
    assert f"dozzle dozzle-shard {port}" in (repo / "deploy" / "local-shards").read_text()
    kustomization = yaml.safe_load((repo / "deploy" / "kubernetes" / "kustomization.yaml").read_text())
    assert "dozzle-shard.yaml" in kustomization["resources"]
    manifests = list(yaml.safe_load_all((repo / "deploy" / "kubernetes" / "dozzle-shard.yaml").read_text()))
    assert [m["kind"] for m in manifests] == ["Deployment", "Service"]
    sources = "\n".join(p.read_text() for p in (repo / "Services" / "dozzle-shard").rglob("*.swift"))
    assert "{{" not in sources and "__Name__" not in sources
    assert 'description: "Dozzle: \\"live\\" container logs"' in sources

    # A second shard takes the next port; the same name again is refused and changes nothing.
    second = new_shard(repo, "adguard-home")
    assert second.returncode == 0, second.stderr
    assert (repo / "Services" / "adguard-home-shard" / "AdguardHomeShard" / "AdguardHomeSettings.swift").is_file()
    assert "ADGUARD_HOME_URL" in (repo / "compose.yaml").read_text()
    after_second = tree_digest(repo)
    again = new_shard(repo, "dozzle")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert tree_digest(repo) == after_second
    assert set(after_first) < set(after_second)


# MARK: The usability check: build it, run it behind the gateway, call it

class DozzleStandIn(http.server.BaseHTTPRequestHandler):
    """What the stub shard talks to: a JSON status page and a docs page."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/":
            body, kind = json.dumps({"version": "v8.9.0", "status": "ok"}).encode(), "application/json"
        elif self.path.startswith("/guide/"):
            body = (b"<html><head><title>Getting started - Dozzle</title></head><body><main><h1>Getting started</h1>"
                    b"<p>Dozzle is a log viewer.</p><h2>Agents</h2><p>Run the agent on every host.</p></main></body></html>")
            kind = "text/html"
        else:
            body, kind = b"not found", "text/plain"
        self.send_response(200 if kind != "text/plain" else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def built_dozzle() -> tuple[Path, Path]:
    """The repository copy with the dozzle shard, built with its tests; (repo, bin folder)."""
    repo = copy_repository(WORKSPACE / "repo")
    result = new_shard(repo, "dozzle", "--docs-url", "https://dozzle.dev/guide/")
    assert result.returncode == 0, result.stderr
    scratch = WORKSPACE / "scratch"
    if not (scratch / "checkouts").exists() and (ROOT / ".build" / "checkouts").exists():
        # Reuse the dependency checkouts of the main build: no second download.
        scratch.mkdir(parents=True, exist_ok=True)
        for name in ("checkouts", "repositories"):
            shutil.copytree(ROOT / ".build" / name, scratch / name, symlinks=True)
        shutil.copy2(ROOT / ".build" / "workspace-state.json", scratch / "workspace-state.json")
    swift = ["swift", "build", "--package-path", str(repo), "--scratch-path", str(scratch)]
    build = subprocess.run(swift + ["--build-tests"], capture_output=True, text=True, timeout=45 * 60)
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    bin_folder = Path(subprocess.run(swift + ["--show-bin-path"], capture_output=True, text=True, check=True).stdout.strip())
    return repo, bin_folder


def test_the_generated_tests_pass(built_dozzle):
    repo, _ = built_dozzle
    result = subprocess.run(["swift", "test", "--package-path", str(repo), "--scratch-path", str(WORKSPACE / "scratch"),
                             "--skip-build", "--filter", "DozzleShardTests"], capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    passed = re.search(r"Test run with (\d+) tests? .*passed", output)
    assert passed and int(passed.group(1)) >= 5, output[-3000:]


async def test_dozzle_registers_with_the_gateway_and_its_tools_answer(built_dozzle, services):
    repo, bin_folder = built_dozzle
    stand_in = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DozzleStandIn)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    dozzle_url = f"http://127.0.0.1:{stand_in.server_address[1]}"
    try:
        shard = services("dozzle-shard", [str(bin_folder / "dozzle-shard")],
                         {"DOZZLE_URL": dozzle_url, "DOZZLE_DOCS_URL": dozzle_url + "/guide/"})
        # The gateway's shard list exactly as the script wrote it into compose.yaml, with the
        # Compose name replaced by this machine's address.
        compose = yaml.safe_load((repo / "compose.yaml").read_text())
        listed = compose["services"]["gateway"]["environment"]["GATEWAY_SHARDS"].split(",")
        entry = next(e for e in listed if e.startswith("dozzle="))
        entry = re.sub(r"//dozzle-shard:\d+/", f"//127.0.0.1:{shard.port}/", entry)
        gateway = services("gateway", [str(bin_folder / "gateway")], {"GATEWAY_SHARDS": entry, "REDIS_URL": ""})

        async with mcp_client(gateway.url + "/mcp") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert {"dozzle_get_dozzle_status", "dozzle_get_dozzle_docs"} <= set(tools)
            assert tools["dozzle_get_dozzle_status"].annotations.read_only_hint is True
            status = await client.call_tool("dozzle_get_dozzle_status", {})
            assert not status.is_error, status.content[0].text
            body = json.loads(status.content[0].text)
            assert body["reachable"] is True and body["version"] == "v8.9.0"
            docs = await client.call_tool("dozzle_get_dozzle_docs", {"topic": "overview", "focus": "agents"})
            assert not docs.is_error, docs.content[0].text
            assert "Run the agent on every host." in json.loads(docs.content[0].text)["text"]
            unknown = await client.call_tool("dozzle_get_dozzle_docs", {"topic": "kubernetes"})
            assert unknown.is_error and "Known topics" in unknown.content[0].text

        # Dozzle going away is an answer, not an error of the shard.
        stand_in.shutdown()
        stand_in.server_close()
        async with mcp_client(gateway.url + "/mcp") as client:
            down = json.loads((await client.call_tool("dozzle_get_dozzle_status", {})).content[0].text)
        assert down["reachable"] is False and "DOZZLE_URL" in down["problem"]
    finally:
        stand_in.server_close()


def test_run_local_starts_the_new_shard_behind_the_gateway(built_dozzle, tmp_path):
    """deploy/local-shards is the gateway's local shard list: run-local starts the new shard with
    the caller's DOZZLE_* settings and the gateway routes to it."""
    from test_run_local import running_run_local

    repo, bin_folder = built_dozzle
    for venv in (".venv", ".venv-mcpo"):  # the copy uses this checkout's Python tools (and Traefik)
        if (ROOT / venv).exists() and not (repo / venv).exists():
            (repo / venv).symlink_to(ROOT / venv)
    port = int(next(line.split()[2] for line in generator.local_shard_lines(repo) if line.startswith("dozzle ")))
    stand_in = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DozzleStandIn)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    try:
        env = {"DOZZLE_URL": f"http://127.0.0.1:{stand_in.server_address[1]}"}
        with running_run_local(repo, bin_folder, tmp_path, env, extra_ports=(port,)) as (proc, log, offset):
            assert f"http://127.0.0.1:{port + offset}" in log.read_text(), log.read_text()
            gateway = f"http://127.0.0.1:{9100 + offset}"

            def dozzle_listed():
                shards = httpx2.get(f"{gateway}/api/v1/shards", timeout=5).json()["shards"]
                return any(s["name"] == "dozzle" and s["status"] == "healthy" for s in shards)
            wait_until(dozzle_listed, timeout=30, message="gateway lists a healthy dozzle shard")
            r = httpx2.post(f"{gateway}/api/v1/mcp/dozzle/tools/get_dozzle_status", json={}, timeout=20)
            assert r.status_code == 200 and not r.json().get("isError"), r.text
            assert json.loads(r.json()["content"][0]["text"])["version"] == "v8.9.0"
            os.killpg(proc.pid, signal.SIGINT)
            assert proc.wait(timeout=40) == 130, log.read_text()
    finally:
        stand_in.shutdown()
        stand_in.server_close()
