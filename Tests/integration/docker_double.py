"""A test double of the Docker Engine API (the parts discovery uses), served on a unix socket and
answering as `shared/specs/docker-engine-api-v1.50.yaml` says: `/_ping` (GET/HEAD, with the
`Api-Version`, `Builder-Version`, `Docker-Experimental`, `Swarm`, `Cache-Control`, `Pragma`
headers), `/version`, `/containers/json` (ContainerSummary, JSON `filters`), `/containers/{id}/json`,
and `/events` (EventMessage objects streamed one per line, chunked, with `filters` and `since`).
A `/vX.Y` prefix outside [min_version, api_version] gets Docker's 400; unknown paths its 404.

    with DockerDouble(api_version="1.52", min_version="1.44") as docker:
        cid = docker.start_container("fx", {"mcp.enable": "true", "mcp.port": "8081"})
        docker.stop_container(cid)
        docker.drop_event_streams()      # the daemon closes /events
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import socketserver
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def _version_tuple(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False


class DockerDouble:
    def __init__(self, api_version: str = "1.50", min_version: str = "1.24", socket_path: str | None = None):
        self.api_version = api_version
        self.min_version = min_version
        self.dir = Path(tempfile.mkdtemp(prefix="docker-"))
        self.socket_path = socket_path or str(self.dir / "docker.sock")
        self.containers: dict[str, dict] = {}
        self.events: list[dict] = []
        self.requests: list[str] = []  # request paths, for assertions
        self.lock = threading.Condition()
        self.stream_generation = 0  # bumped to drop open event streams
        self.server: _Server | None = None
        self.connections: set = set()  # open client sockets, closed when the daemon stops

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    # MARK: control

    def start(self) -> "DockerDouble":
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        double = self

        class Handler(_Handler):
            owner = double

        self.server = _Server(self.socket_path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """The daemon goes away: the socket disappears and every connection is closed."""
        self.drop_event_streams()
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def __enter__(self) -> "DockerDouble":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def drop_event_streams(self) -> None:
        with self.lock:
            self.stream_generation += 1
            self.lock.notify_all()

    def start_container(self, name: str, labels: dict[str, str], networks: dict[str, str] | None = None,
                        image: str = "ghcr.io/homelab/mcp-fixture:latest") -> str:
        """Adds a running container (IP per network, default 127.0.0.1 on `homelab_default`) and
        emits `create` and `start`. Returns the 64-hex container id."""
        cid = hashlib.sha256(f"{name}-{time.time_ns()}".encode()).hexdigest()
        networks = networks if networks is not None else {"homelab_default": "127.0.0.1"}
        now = int(time.time())
        self.containers[cid] = {
            "Id": cid,
            "Names": [f"/{name}"],
            "Image": image,
            "ImageID": "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
            "Command": "/app/server",
            "Created": now,
            "Ports": [{"PrivatePort": int(labels.get("mcp.port", "8080")), "Type": "tcp"}],
            "Labels": dict(labels),
            "State": "running",
            "Status": "Up Less than a second",
            "HostConfig": {"NetworkMode": next(iter(networks), "bridge")},
            "NetworkSettings": {"Networks": {
                net: {
                    "IPAMConfig": None, "Links": None, "MacAddress": "02:42:ac:11:00:02", "Aliases": [name],
                    "DriverOpts": None, "GwPriority": 0,
                    "NetworkID": hashlib.sha256(net.encode()).hexdigest(),
                    "EndpointID": hashlib.sha256(f"{cid}{net}".encode()).hexdigest(),
                    "Gateway": "172.17.0.1", "IPAddress": ip, "IPPrefixLen": 16, "IPv6Gateway": "",
                    "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": [name, cid[:12]],
                } for net, ip in networks.items()}},
            "Mounts": [],
        }
        self._emit(cid, "create")
        self._emit(cid, "start")
        return cid

    def stop_container(self, cid: str) -> None:
        """`docker stop`: emits kill, die, stop; the container is listed as exited."""
        container = self.containers[cid]
        self._emit(cid, "kill", {"signal": "15"})
        container["State"] = "exited"
        container["Status"] = "Exited (0) Less than a second ago"
        self._emit(cid, "die", {"exitCode": "0"})
        self._emit(cid, "stop")

    def remove_container(self, cid: str) -> None:
        self._emit(cid, "destroy")
        self.containers.pop(cid, None)

    def _emit(self, cid: str, action: str, extra: dict[str, str] | None = None) -> None:
        container = self.containers[cid]
        now = time.time_ns()
        attributes = {**container["Labels"], "image": container["Image"], "name": container["Names"][0][1:], **(extra or {})}
        event = {"Type": "container", "Action": action, "Actor": {"ID": cid, "Attributes": attributes},
                 "scope": "local", "time": now // 1_000_000_000, "timeNano": now}
        with self.lock:
            self.events.append(event)
            self.lock.notify_all()


def _parse_filters(query: dict[str, list[str]]) -> dict[str, list[str]]:
    raw = query.get("filters", [""])[0]
    if not raw:
        return {}
    parsed = json.loads(raw)
    # Docker also accepts the older map[string]map[string]bool form.
    return {k: (list(v.keys()) if isinstance(v, dict) else list(v)) for k, v in parsed.items()}


def _labels_match(labels: dict[str, str], wanted: list[str]) -> bool:
    for item in wanted:  # several label filters are ANDed
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    owner: DockerDouble
    protocol_version = "HTTP/1.1"
    server_version = "Docker/28.2.2 (linux)"

    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.owner.connections.add(self.connection)

    def finish(self) -> None:
        self.owner.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Api-Version", self.owner.api_version)
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value) -> None:
        self._send(status, (json.dumps(value) + "\n").encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"message": message})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        self.owner.requests.append(self.path)
        m = re.match(r"^/v(\d+\.\d+)(/.*)$", path)
        if m:
            version, path = m.group(1), m.group(2)
            if _version_tuple(version) > _version_tuple(self.owner.api_version):
                return self._error(400, f"client version {version} is too new. Maximum supported API version is {self.owner.api_version}")
            if _version_tuple(version) < _version_tuple(self.owner.min_version):
                return self._error(400, f"client version {version} is too old. Minimum supported API version is {self.owner.min_version}, please upgrade your client to a newer version")
        if path == "/_ping":
            return self._send(200, b"OK", "text/plain; charset=utf-8", {
                "Builder-Version": "2", "Swarm": "inactive",
                "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"})
        if path == "/version":
            return self._json(200, {
                "Platform": {"Name": "Docker Engine - Community"}, "Version": "28.2.2", "ApiVersion": self.owner.api_version,
                "MinAPIVersion": self.owner.min_version, "GitCommit": "e6534b4", "GoVersion": "go1.24.3", "Os": "linux",
                "Arch": "amd64", "KernelVersion": "6.8.0", "BuildTime": "2025-05-30T12:00:00.000000000+00:00"})
        if path == "/containers/json":
            filters = _parse_filters(query)
            show_all = query.get("all", ["false"])[0] in ("1", "true")
            result = []
            for c in list(self.owner.containers.values()):
                if not show_all and c["State"] != "running":
                    continue
                if "status" in filters and c["State"] not in filters["status"]:
                    continue
                if "label" in filters and not _labels_match(c["Labels"], filters["label"]):
                    continue
                if "id" in filters and not any(c["Id"].startswith(i) for i in filters["id"]):
                    continue
                result.append(c)
            return self._json(200, result)
        m = re.match(r"^/containers/([^/]+)/json$", path)
        if m:
            c = next((c for cid, c in self.owner.containers.items() if cid.startswith(m.group(1)) or c["Names"][0] == "/" + m.group(1)), None)
            if c is None:
                return self._error(404, f"No such container: {m.group(1)}")
            return self._json(200, {
                "Id": c["Id"], "Created": "2025-06-01T00:00:00Z", "Path": c["Command"], "Args": [], "Name": c["Names"][0],
                "State": {"Status": c["State"], "Running": c["State"] == "running", "Paused": False, "Restarting": False,
                          "OOMKilled": False, "Dead": False, "Pid": 1234, "ExitCode": 0, "Error": "",
                          "StartedAt": "2025-06-01T00:00:01Z", "FinishedAt": "0001-01-01T00:00:00Z"},
                "Image": c["ImageID"], "RestartCount": 0,
                "Config": {"Image": c["Image"], "Labels": c["Labels"], "Env": [], "ExposedPorts": {f"{c['Ports'][0]['PrivatePort']}/tcp": {}}},
                "NetworkSettings": {"Ports": {}, "Networks": c["NetworkSettings"]["Networks"], "SandboxID": "", "SandboxKey": ""},
            })
        if path == "/events":
            return self._events(_parse_filters(query), query)
        return self._error(404, "page not found")

    def _events(self, filters: dict[str, list[str]], query: dict[str, list[str]]) -> None:
        def matches(e: dict) -> bool:
            if "type" in filters and e["Type"] not in filters["type"]:
                return False
            if "event" in filters and e["Action"] not in filters["event"]:
                return False
            if "label" in filters and not _labels_match(e["Actor"]["Attributes"], filters["label"]):
                return False
            return True

        since = query.get("since", [None])[0]
        with self.owner.lock:
            generation = self.owner.stream_generation
            if since is not None:
                start = next((i for i, e in enumerate(self.owner.events) if e["time"] >= float(since)), len(self.owner.events))
            else:
                start = len(self.owner.events)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", self.owner.api_version)
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        position = start
        try:
            while True:
                with self.owner.lock:
                    while position >= len(self.owner.events) and self.owner.stream_generation == generation:
                        self.owner.lock.wait(timeout=0.5)
                    if self.owner.stream_generation != generation:
                        break
                    batch = self.owner.events[position:]
                    position = len(self.owner.events)
                for e in batch:
                    if matches(e):
                        line = (json.dumps(e) + "\n").encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
