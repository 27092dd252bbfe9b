"""The deployment files agree with the code: compose.yaml (and the template's compose snippet)
follow the Compose specification, compose sets only variables the services read and every
variable they require, every Dockerfile builds a real executable product, .env.example is what
the binaries declare, and every metric the alert rules and the dashboard use is exported.

No Docker here: the files are checked against the specification and the real binaries."""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import httpx2
import jsonschema
import pytest
import yaml

from conftest import ROOT, wait_until

COMPOSE_SPEC = ROOT.parent / "shared" / "specs" / "compose-spec.json"
COMPOSE_FILES = [p for p in (ROOT / "compose.yaml", ROOT / "template" / "compose.yaml.template") if p.exists()]
OBSERVABILITY = ROOT / "deploy" / "observability"


def _load_script(name: str, path: Path):
    spec = importlib.util.spec_from_loader(name, SourceFileLoader(name, str(path)))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The generator's own reading of the binaries, so the tests and .env.example agree on it.
gen_env_example = _load_script("gen_env_example", ROOT / "scripts" / "gen-env-example")


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def built_services(compose: dict) -> dict[str, str]:
    """Compose service name -> the executable product its image is built from."""
    out = {}
    for name, service in compose["services"].items():
        build = service.get("build")
        if isinstance(build, dict) and "PRODUCT" in (build.get("args") or {}):
            out[name] = build["args"]["PRODUCT"]
    return out


@pytest.fixture(scope="module")
def declarations(bin_path: Path) -> dict[str, list[dict]]:
    """Each service product's `--print-settings` rows (the same call gen-env-example makes)."""
    try:
        return {product: gen_env_example.declared_settings(bin_path / product) for product in gen_env_example.SERVICES}
    except SystemExit as error:  # the generator's own message: which binary, and why
        pytest.fail(str(error))


# MARK: Compose specification

def compose_validator() -> jsonschema.Draft7Validator:
    # The spec says draft-07 (under an https $schema URL jsonschema does not recognise by itself).
    return jsonschema.Draft7Validator(json.loads(COMPOSE_SPEC.read_text()))


def compose_document(path: Path) -> dict:
    text = path.read_text()
    # The template's snippet has {{placeholders}}; any name stands in for them.
    return yaml.safe_load(re.sub(r"\{\{\s*[\w.]+\s*\}\}", "example", text))


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compose_file_follows_the_compose_specification(path: Path):
    errors = sorted(compose_validator().iter_errors(compose_document(path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_compose_validation_catches_a_misspelt_key():
    broken = copy.deepcopy(load_compose())
    broken["services"]["gateway"]["healthchek"] = broken["services"]["gateway"].pop("healthcheck")
    assert list(compose_validator().iter_errors(broken)), "the schema check must reject unknown keys"


# MARK: Compose and the services' declared settings

def config_file_variables(service: dict) -> set[str]:
    """Variables a service reads because a config file it mounts from this repository names them:
    the gateway's profiles (`token_env: NAME`), the router's model list (`os.environ/NAME`)."""
    names = set()
    for volume in service.get("volumes") or []:
        spec = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", str(volume))
        host = (ROOT / spec.split(":")[0]).resolve()
        if host.is_dir() and ROOT in host.parents:
            for path in list(host.glob("*.yaml")) + list(host.glob("*.yml")):
                text = path.read_text()
                names |= set(re.findall(r"token_env:\s*([A-Za-z_][A-Za-z0-9_]*)", text))
                names |= set(re.findall(r"os\.environ/([A-Za-z_][A-Za-z0-9_]*)", text))
    return names


def service_products() -> set[str]:
    """Package.swift's executable products whose target lives under Services/ (not test tools)."""
    package = (ROOT / "Package.swift").read_text()
    targets = dict(re.findall(r'\.executableTarget\(name: "(\w+)".*?path: "([^"]+)"', package))
    products = re.findall(r'\.executable\(name: "([\w-]+)", targets: \["(\w+)"\]\)', package)
    return {name for name, target in products if targets.get(target, "").startswith("Services/")}


def test_compose_sets_only_declared_variables_and_every_required_one(declarations):
    compose = load_compose()
    services = built_services(compose)
    assert set(services.values()) == service_products(), "compose.yaml must build every service product of Package.swift"
    problems = []
    for service, product in services.items():
        rows = declarations[product]
        declared = {row["name"] for row in rows}
        from_files = config_file_variables(compose["services"][service])
        allowed = declared | {row["name"] + "_FILE" for row in rows if row["secret"]} | from_files
        environment = compose["services"][service].get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
        for name in sorted(from_files - set(environment)):
            problems.append(f"{service}: its mounted config names {name}, which compose does not set")
        for name in sorted(set(environment) - allowed):
            problems.append(f"{service}: compose sets {name}, which {product} does not read")
        for row in rows:
            if row["required"] and row["name"] not in environment and row["name"] + "_FILE" not in environment:
                problems.append(f"{service}: {product} requires {row['name']}, which compose does not set")
    assert not problems, "\n".join(problems)


def test_every_service_has_health_restart_limits_and_healthy_dependencies():
    compose = load_compose()
    services = compose["services"]
    for name, product in built_services(compose).items():
        service = services[name]
        assert service["healthcheck"]["test"] == ["CMD", f"/app/{product}", "--healthcheck"], name
        assert service["restart"] == "unless-stopped", name
        assert service["deploy"]["resources"]["limits"]["memory"], name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
            assert "healthcheck" in services[dependency], f"{name} waits for {dependency}, which has no healthcheck"
    for name in ("postgres", "redis", "docker-socket-proxy"):
        assert "healthcheck" in services[name] and services[name]["restart"] == "unless-stopped", name


def test_only_the_socket_proxy_sees_the_docker_socket():
    services = load_compose()["services"]
    for name, service in services.items():
        mounts = [str(v) for v in service.get("volumes") or []]
        if any("docker.sock" in m for m in mounts):
            assert name == "docker-socket-proxy", f"{name} mounts the Docker socket"
            assert all(m.endswith(":ro") for m in mounts if "docker.sock" in m)
    proxy = services["docker-socket-proxy"]["environment"]
    assert proxy["POST"] == "0" and proxy["CONTAINERS"] == "1" and proxy["EVENTS"] == "1"
    assert services["discovery"]["environment"]["DOCKER_HOST"] == "tcp://docker-socket-proxy:2375"


def test_compose_holds_no_literal_secret(declarations):
    secret_names = {row["name"] for rows in declarations.values() for row in rows if row["secret"]}
    compose = load_compose()
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key in secret_names or "PASSWORD" in key or key.endswith(("_KEY", "_TOKEN")):
                assert "${" in str(value) or str(value).startswith("/run/secrets/"), f"{name}: {key} is written into compose.yaml"


def test_shards_carry_discovery_labels():
    services = load_compose()["services"]
    labels = services["traefik-shard"]["labels"]
    assert labels["mcp.enable"] == "true" and labels["mcp.name"] and labels["mcp.path"] == "/mcp"
    assert labels["mcp.port"] == services["traefik-shard"]["environment"]["PORT"]


# MARK: Dockerfiles and Package.swift

@pytest.fixture(scope="module")
def executable_products(tmp_path_factory) -> set[str]:
    # A scratch folder of its own: dump-package then never waits for a build holding .build's lock.
    scratch = tmp_path_factory.mktemp("dump-package")
    out = subprocess.run(["swift", "package", "--scratch-path", str(scratch), "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True)
    package = json.loads(out.stdout)
    return {p["name"] for p in package["products"] if "executable" in p["type"]}


def dockerfiles() -> list[Path]:
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]  # .build*, .venv, .run, .git
        found += [Path(folder) / f for f in files if f.startswith("Dockerfile")]
    return sorted(found)


def test_every_dockerfile_builds_an_executable_product(executable_products):
    files = dockerfiles()
    assert ROOT / "Dockerfile" in files
    compose = load_compose()
    for path in files:
        text = path.read_text()
        # The images build through scripts/release-build (the flags live there, shared with the benchmarks).
        build_command = text + ((ROOT / "scripts/release-build").read_text() if "scripts/release-build" in text else "")
        assert "--static-swift-stdlib" in build_command and "-c release" in build_command, f"{path}: not a static release build"
        assert re.search(r"^USER\s+(?!root)\S+", text, re.M), f"{path}: runs as root"
        products = re.findall(r"--product\s+\"?([^\s\"]+)\"?", text)
        assert products, f"{path}: no --product"
        for product in products:
            if "PRODUCT" in product:  # parameterised: the products compose passes in
                assert re.search(r"^ARG PRODUCT\b", text, re.M)
                passed = [
                    s["build"]["args"]["PRODUCT"] for s in compose["services"].values()
                    if isinstance(s.get("build"), dict) and (ROOT / s["build"].get("context", ".") / s["build"].get("dockerfile", "Dockerfile")).resolve() == path.resolve()
                ]
                assert passed, f"{path}: nothing builds it with a PRODUCT"
                unknown = set(passed) - executable_products
            else:
                unknown = {product} - executable_products
            assert not unknown, f"{path}: {sorted(unknown)} are not executable products in Package.swift"


# MARK: .env.example

def test_env_example_is_generated_from_the_binaries(bin_path: Path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-env-example"), "--check", "--bin-path", str(bin_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_env_example_lists_every_declared_variable(declarations):
    text = (ROOT / ".env.example").read_text()
    for product, rows in declarations.items():
        for row in rows:
            assert re.search(rf"^# {row['name']}=", text, re.M), f"{product}'s {row['name']} is missing from .env.example"


# MARK: Observability: every metric name used is exported

PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "abs", "clamp_min", "clamp_max",
    "sum_over_time", "avg_over_time", "max_over_time", "min_over_time", "last_over_time", "absent", "vector",
    "scalar", "time", "day_of_month", "label_replace", "round", "ceil", "floor", "sort", "sort_desc",
}
# Series Prometheus itself makes for every target, not exported by the services.
PROMETHEUS_SERIES = {"up"}


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                                   # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)                                             # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                                            # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][\w:]*)\s*(\()?", expr):
        word, call = match.group(1), match.group(2)
        if call or word in PROMQL_WORDS or word.lower() in {"inf", "nan"}:
            continue
        names.add(word)
    return names


def referenced_metrics() -> dict[str, set[str]]:
    """Metric name -> the files that use it."""
    uses: dict[str, set[str]] = {}
    alerts = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())
    for group in alerts["groups"]:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                uses.setdefault(name, set()).add("alerts.yml")
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            for name in metric_names(target["expr"]):
                uses.setdefault(name, set()).add("grafana-dashboard.json")
    return uses


def test_promql_metric_name_extraction():
    assert metric_names('sum by (shard) (rate(gateway_tool_calls_total{outcome=~"error|timeout"}[10m])) / '
                        'histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[5m]))) > 0.1 and up{job="a"} == 0') == {
        "gateway_tool_calls_total", "x_seconds_bucket", "up"}


def source_metric_labels() -> set[str]:
    """Metric labels created in the Swift sources (`Counter(label: "...")` etc.): the fallback for
    services this test cannot start with real traffic (the router's and the PR bot's counters
    appear only after a provider or GitHub call). A histogram's series get _bucket/_sum/_count."""
    names = set()
    for path in list((ROOT / "Services").rglob("*.swift")) + list((ROOT / "Shared").rglob("*.swift")):
        for kind, label in re.findall(r"\b(Counter|Gauge|Recorder|Timer|Meter|FloatingPointCounter)\(\s*label:\s*\"([a-z_:][a-z0-9_:]*)\"", path.read_text()):
            names.add(label)
            if kind in {"Timer", "Recorder"}:
                names |= {label + "_bucket", label + "_sum", label + "_count"}
    return names


def test_every_metric_in_alerts_and_dashboard_is_exported(services, bin_path: Path):
    shard = services("fixture-shard", [str(bin_path / "fixture-shard")], {"FIXTURE_NAME": "fixture"})
    gateway = services("gateway", [str(bin_path / "gateway")], {"GATEWAY_SHARDS": f"fixture={shard.url}/mcp", "GATEWAY_PROBE_INTERVAL": "0.5"})

    def fixture_listed():
        shards = httpx2.get(f"{gateway.url}/api/v1/shards", timeout=5).json()
        return "fixture" in json.dumps(shards) and '"echo"' in json.dumps(shards)

    wait_until(fixture_listed, timeout=20, message="gateway lists the fixture shard's tools")
    for tool, args in (("echo", {"text": "hi"}), ("fail", {})):
        r = httpx2.post(f"{gateway.url}/api/v1/mcp/fixture/tools/{tool}", json=args, timeout=10)
        assert r.status_code == 200, r.text
    exported = set()
    for svc in (gateway, shard):
        text = httpx2.get(f"{svc.url}/metrics", timeout=5).text
        exported |= {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert {"gateway_shard_up", "gateway_tool_calls_total", "gateway_tool_call_duration_seconds_bucket"} <= exported

    known = exported | source_metric_labels() | PROMETHEUS_SERIES
    uses = referenced_metrics()
    missing = {name: sorted(files) for name, files in uses.items() if name not in known}
    assert not missing, f"metrics no service exports: {missing}"
    gateway_names = {n for n in uses if n.startswith("gateway_")}
    assert gateway_names <= exported, f"gateway metrics not on the live /metrics: {gateway_names - exported}"


# MARK: Kubernetes manifests

def test_kubernetes_manifests_set_only_declared_variables(declarations):
    documents = [d for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in documents if d["kind"] == "ConfigMap"}
    seen, problems = set(), []
    for workload in (d for d in documents if d["kind"] in {"Deployment", "StatefulSet"}):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            product = container["image"].removeprefix("homelab-mcp/")
            if product not in declarations:
                continue
            seen.add(product)
            rows = declarations[product]
            allowed = {r["name"] for r in rows} | {r["name"] + "_FILE" for r in rows if r["secret"]}
            names = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                names |= set(config_maps[source["configMapRef"]["name"]])
            problems += [f"{product}: sets {n}, which it does not read" for n in sorted(names - allowed)]
            problems += [f"{product}: requires {r['name']}" for r in rows if r["required"] and not {r["name"], r["name"] + "_FILE"} & names]
            assert container["livenessProbe"]["exec"]["command"] == [f"/app/{product}", "--healthcheck"], product
    assert not problems, "\n".join(problems)
    assert seen == set(gen_env_example.SERVICES), f"no Deployment for {set(gen_env_example.SERVICES) - seen}"
    assert "gateway" in config_maps, "the gateway's settings live in a ConfigMap"
    rbac = [d for d in documents if d["kind"] == "Role" and any("services" in r["resources"] for r in d["rules"])]
    assert rbac and all(set(r["verbs"]) <= {"get", "list", "watch"} for r in rbac[0]["rules"]), "discovery's RBAC must be read-only"
