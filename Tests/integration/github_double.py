"""A GitHub REST test double for the PR-automation bot: a tiny in-memory repository (refs,
commits, files, pull requests, labels) answering the few routes the bot uses the way GitHub
does, error bodies included.

Every route it serves is a (verb, path) of GitHub's own route table (`ghapi/gh_spec.py`, built
from github/rest-api-description); `check_against_spec` proves it, and checks every request the
bot sent (query parameters, body fields, required fields) against the same table.

    double = GitHubDouble(owner="homelab", repo="infra").start()
    ... point the bot at double.url ...
    double.check_requests_against_spec()
    double.stop()
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

DOCS = "https://docs.github.com/rest"


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class GitHubError(Exception):
    def __init__(self, status: int, message: str, errors: list | None = None, headers: dict | None = None, docs: str = DOCS):
        self.status = status
        self.body = {"message": message, "documentation_url": docs, "status": str(status)}
        if errors is not None:
            self.body["errors"] = errors
        self.headers = headers or {}


@dataclass
class Commit:
    sha: str
    parent: str | None
    files: dict[str, bytes]
    message: str


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    state: str = "open"
    merged_at: str | None = None
    labels: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=_now_iso)
    updated_at: str = field(default_factory=_now_iso)


@dataclass
class Fault:
    verb: str
    path_regex: str
    status: int
    body: dict
    headers: dict
    remaining: int


@dataclass
class Recorded:
    verb: str
    template: str
    path: str
    query: dict
    body: dict | None
    status: int
    authorization: str | None


class GitHubDouble:
    """The repository state plus the HTTP server in a background thread."""

    def __init__(self, owner: str = "homelab", repo: str = "infra", default_branch: str = "main",
                 tokens: set[str] | None = None, app_id: str | None = None, app_public_key_pem: bytes | None = None,
                 installation_id: int = 4242):
        self.owner, self.repo, self.default_branch = owner, repo, default_branch
        self.tokens = set(tokens or [])
        self.app_id, self.app_public_key_pem, self.installation_id = app_id, app_public_key_pem, installation_id
        self.lock = threading.RLock()
        self._sha_counter = itertools.count(1)
        root = Commit(self._new_sha(), None, {"README.md": b"# infra\n"}, "initial commit")
        self.commits: dict[str, Commit] = {root.sha: root}
        self.refs: dict[str, str] = {f"heads/{default_branch}": root.sha}
        self.pulls: list[Pull] = []
        self.labels: dict[str, dict] = {}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.issued_tokens: list[dict] = []   # App installation tokens handed out
        self.jwt_claims: list[dict] = []      # claims of every App JWT that verified
        self.server: ThreadingHTTPServer | None = None

    # MARK: - lifecycle

    def start(self) -> "GitHubDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                double._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # MARK: - test controls

    def fail_next(self, verb: str, path_regex: str, status: int, message: str, headers: dict | None = None, times: int = 1) -> None:
        """The next `times` requests whose path and query match get this answer instead of the real one."""
        with self.lock:
            self.faults.append(Fault(verb, path_regex, status, {"message": message, "documentation_url": DOCS, "status": str(status)}, headers or {}, times))

    def rate_limit_next(self, verb: str, path_regex: str, reset_in: float = 2.0, status: int = 403) -> None:
        reset = int(time.time() + reset_in)
        self.fail_next(verb, path_regex, status, "API rate limit exceeded for installation ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                       {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "core"})

    def close_pull(self, number: int) -> None:
        """A reviewer closes the PR without merging: the bot must take that as declined."""
        with self.lock:
            pull = self._pull(number)
            pull.state, pull.updated_at = "closed", _now_iso()

    def merge_pull(self, number: int) -> None:
        with self.lock:
            pull = self._pull(number)
            head = self.commits[self.refs[f"heads/{pull.head}"]]
            merged = Commit(self._new_sha(), self.refs[f"heads/{pull.base}"], dict(head.files), f"Merge pull request #{number}")
            self.commits[merged.sha] = merged
            self.refs[f"heads/{pull.base}"] = merged.sha
            pull.state, pull.merged_at = "closed", _now_iso()

    def branch_commits(self, branch: str) -> list[Commit]:
        """Commits on `branch` that the default branch does not have."""
        with self.lock:
            base = set()
            sha = self.refs.get(f"heads/{self.default_branch}")
            while sha:
                base.add(sha)
                sha = self.commits[sha].parent
            out = []
            sha = self.refs.get(f"heads/{branch}")
            while sha and sha not in base:
                out.append(self.commits[sha])
                sha = self.commits[sha].parent
            return out

    def file(self, branch: str, path: str) -> bytes | None:
        with self.lock:
            sha = self.refs.get(f"heads/{branch}")
            return self.commits[sha].files.get(path) if sha else None

    def branches(self) -> list[str]:
        with self.lock:
            return sorted(name.removeprefix("heads/") for name in self.refs)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.verb != "GET"]

    # MARK: - routes

    ROUTES = [
        ("GET", "/repos/{owner}/{repo}", "get_repo"),
        ("GET", "/repos/{owner}/{repo}/git/ref/{ref}", "get_ref"),
        ("POST", "/repos/{owner}/{repo}/git/refs", "create_ref"),
        ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", "update_ref"),
        ("GET", "/repos/{owner}/{repo}/contents/{path}", "get_content"),
        ("PUT", "/repos/{owner}/{repo}/contents/{path}", "put_content"),
        ("GET", "/repos/{owner}/{repo}/pulls", "list_pulls"),
        ("POST", "/repos/{owner}/{repo}/pulls", "create_pull"),
        ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", "update_pull"),
        ("GET", "/repos/{owner}/{repo}/labels/{name}", "get_label"),
        ("POST", "/repos/{owner}/{repo}/labels", "create_label"),
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "add_labels"),
        ("GET", "/repos/{owner}/{repo}/installation", "get_installation"),
        ("POST", "/app/installations/{installation_id}/access_tokens", "create_access_token"),
    ]
    # The query parameters each route reads; checked against GitHub's table too.
    QUERY = {"get_content": ["ref"], "list_pulls": ["state", "head", "base", "per_page", "page"]}
    # Routes that take the App JWT instead of an installation token or PAT.
    APP_ROUTES = {"get_installation", "create_access_token"}

    @staticmethod
    def _regex(template: str) -> re.Pattern:
        def group(m):
            name = m.group(1)
            return f"(?P<{name}>.+)" if name in ("path", "ref") else f"(?P<{name}>[^/]+)"
        return re.compile("^" + re.sub(r"\{(\w+)\}", group, template) + "$")

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = None
        status, payload, headers = 500, {"message": "double error"}, {}
        template = "?"
        try:
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise GitHubError(400, "Problems parsing JSON")
            for verb, tmpl, handler in self.ROUTES:
                match = self._regex(tmpl).match(split.path)
                if verb == h.command and match:
                    template = tmpl
                    params = {k: unquote(v) for k, v in match.groupdict().items()}
                    break
            else:
                raise GitHubError(404, "Not Found")
            if h.headers.get("Accept") != "application/vnd.github+json" or not h.headers.get("User-Agent") or not h.headers.get("X-GitHub-Api-Version"):
                raise GitHubError(400, "Missing Accept, User-Agent or X-GitHub-Api-Version header")
            self._check_auth(handler, h.headers.get("Authorization"))
            with self.lock:
                for fault in self.faults:
                    if fault.verb == h.command and re.search(fault.path_regex, h.path) and fault.remaining > 0:
                        fault.remaining -= 1
                        raise GitHubError(fault.status, fault.body["message"], headers=fault.headers)
                if handler not in self.APP_ROUTES and (params.get("owner"), params.get("repo")) != (self.owner, self.repo):
                    raise GitHubError(404, "Not Found", docs=f"{DOCS}/repos/repos#get-a-repository")
                status, payload = getattr(self, handler)(params, query, body or {})
        except GitHubError as e:
            status, payload, headers = e.status, e.body, e.headers
        with self.lock:
            self.requests.append(Recorded(h.command, template, split.path, query, body, status, h.headers.get("Authorization")))
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _check_auth(self, handler: str, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise GitHubError(401, "Requires authentication")
        credential = authorization.removeprefix("Bearer ")
        if handler in self.APP_ROUTES:
            import jwt  # PyJWT
            try:
                claims = jwt.decode(credential, self.app_public_key_pem, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]})
            except Exception as e:  # noqa: BLE001 - any failure is a 401, as on GitHub
                raise GitHubError(401, f"A JSON web token could not be decoded ({type(e).__name__})")
            if str(claims["iss"]) != str(self.app_id):
                raise GitHubError(401, "'Issuer' claim ('iss') must be an Integer or a Client ID")
            if claims["exp"] - claims["iat"] > 600:
                raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
            with self.lock:
                self.jwt_claims.append(claims)
            return
        valid = self.tokens | {t["token"] for t in self.issued_tokens if t["expires"] > time.time()}
        if credential not in valid:
            raise GitHubError(401, "Bad credentials")

    # MARK: - handlers (each returns status, JSON)

    def _new_sha(self) -> str:
        return hashlib.sha1(f"commit-{next(self._sha_counter)}".encode()).hexdigest()

    def _pull(self, number: int) -> Pull:
        for pull in self.pulls:
            if pull.number == number:
                return pull
        raise GitHubError(404, "Not Found")

    def _ref_json(self, name: str) -> dict:
        sha = self.refs[name]
        return {"ref": f"refs/{name}", "node_id": "REF_" + sha[:8], "url": f"{self.url}/repos/{self.owner}/{self.repo}/git/refs/{name}",
                "object": {"sha": sha, "type": "commit", "url": f"{self.url}/repos/{self.owner}/{self.repo}/git/commits/{sha}"}}

    def _pull_json(self, p: Pull) -> dict:
        html = f"https://github.com/{self.owner}/{self.repo}/pull/{p.number}"
        return {"url": f"{self.url}/repos/{self.owner}/{self.repo}/pulls/{p.number}", "id": 1000 + p.number, "number": p.number,
                "html_url": html, "state": p.state, "title": p.title, "body": p.body, "draft": False,
                "created_at": p.created_at, "updated_at": p.updated_at, "closed_at": p.updated_at if p.state == "closed" else None,
                "merged_at": p.merged_at, "labels": [self.labels.get(n, {"name": n}) for n in p.labels],
                "head": {"label": f"{self.owner}:{p.head}", "ref": p.head, "sha": self.refs.get(f"heads/{p.head}")},
                "base": {"label": f"{self.owner}:{p.base}", "ref": p.base, "sha": self.refs.get(f"heads/{p.base}")}}

    def get_repo(self, params, query, body):
        return 200, {"id": 1, "name": self.repo, "full_name": f"{self.owner}/{self.repo}", "private": True, "default_branch": self.default_branch}

    def get_ref(self, params, query, body):
        name = params["ref"]
        if name not in self.refs:
            raise GitHubError(404, "Not Found", docs=f"{DOCS}/git/refs#get-a-reference")
        return 200, self._ref_json(name)

    def create_ref(self, params, query, body):
        ref, sha = body.get("ref"), body.get("sha")
        if not ref or not sha:
            raise GitHubError(422, "Invalid request.\n\n\"ref\" and \"sha\" are required.")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise GitHubError(422, "Reference name must start with 'refs/' and have at least two slashes.")
        name = ref.removeprefix("refs/")
        if name in self.refs:
            raise GitHubError(422, "Reference already exists", docs=f"{DOCS}/git/refs#create-a-reference")
        if sha not in self.commits:
            raise GitHubError(422, "Object does not exist")
        self.refs[name] = sha
        return 201, self._ref_json(name)

    def update_ref(self, params, query, body):
        name, sha = params["ref"], body.get("sha")
        if name not in self.refs:
            raise GitHubError(422, "Reference does not exist")
        if sha not in self.commits:
            raise GitHubError(422, "Object does not exist")
        if not body.get("force"):
            ancestor = sha
            while ancestor and ancestor != self.refs[name]:
                ancestor = self.commits[ancestor].parent
            if ancestor is None:
                raise GitHubError(422, "Update is not a fast forward")
        self.refs[name] = sha
        return 200, self._ref_json(name)

    def get_content(self, params, query, body):
        branch = query.get("ref", self.default_branch)
        if f"heads/{branch}" not in self.refs:
            raise GitHubError(404, f"No commit found for the ref {branch}")
        files = self.commits[self.refs[f"heads/{branch}"]].files
        path = params["path"]
        if path not in files:
            if any(f.startswith(path + "/") for f in files):
                return 200, [{"type": "dir" if "/" in f[len(path) + 1:] else "file", "name": f[len(path) + 1:].split("/")[0], "path": f} for f in files if f.startswith(path + "/")]
            raise GitHubError(404, "Not Found", docs=f"{DOCS}/repos/contents#get-repository-content")
        data = files[path]
        encoded = base64.b64encode(data).decode()
        wrapped = "\n".join(encoded[i:i + 60] for i in range(0, len(encoded), 60)) + "\n"
        return 200, {"type": "file", "encoding": "base64", "size": len(data), "name": path.split("/")[-1], "path": path,
                     "content": wrapped, "sha": _blob_sha(data)}

    def put_content(self, params, query, body):
        for required in ("message", "content"):
            if required not in body:
                raise GitHubError(422, f"Invalid request.\n\n\"{required}\" wasn't supplied.")
        branch = body.get("branch", self.default_branch)
        if f"heads/{branch}" not in self.refs:
            raise GitHubError(404, f"Branch {branch} not found")
        path = params["path"]
        if path.startswith("/") or ".." in path.split("/"):
            raise GitHubError(422, "path contains a malformed path component")
        try:
            data = base64.b64decode(body["content"], validate=True)
        except ValueError:
            raise GitHubError(422, "content is not valid Base64")
        head = self.commits[self.refs[f"heads/{branch}"]]
        existing = head.files.get(path)
        if existing is not None:
            if "sha" not in body:
                raise GitHubError(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
            if body["sha"] != _blob_sha(existing):
                raise GitHubError(409, f"{path} does not match {body['sha']}", docs=f"{DOCS}/repos/contents#create-or-update-file-contents")
        files = dict(head.files)
        files[path] = data
        commit = Commit(self._new_sha(), head.sha, files, body["message"])
        self.commits[commit.sha] = commit
        self.refs[f"heads/{branch}"] = commit.sha
        return (200 if existing is not None else 201), {
            "content": {"name": path.split("/")[-1], "path": path, "sha": _blob_sha(data), "size": len(data), "type": "file"},
            "commit": {"sha": commit.sha, "message": body["message"], "parents": [{"sha": head.sha}]}}

    def list_pulls(self, params, query, body):
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise GitHubError(422, "Validation Failed", [{"resource": "Issue", "field": "state", "code": "invalid"}])
        found = [p for p in self.pulls if state == "all" or p.state == state]
        if "head" in query:
            owner, _, branch = query["head"].partition(":")
            found = [p for p in found if owner == self.owner and p.head == branch]
        if "base" in query:
            found = [p for p in found if p.base == query["base"]]
        found.sort(key=lambda p: p.number, reverse=True)  # sort=created, direction=desc
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        return 200, [self._pull_json(p) for p in found[(page - 1) * per_page: page * per_page]]

    def create_pull(self, params, query, body):
        head, base = body.get("head"), body.get("base")
        if not head or not base:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "field": "head" if not head else "base", "code": "missing_field"}])
        branch = head.split(":", 1)[-1]
        if f"heads/{branch}" not in self.refs:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if f"heads/{base}" not in self.refs:
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "field": "base", "code": "invalid"}])
        if any(p.head == branch and p.base == base and p.state == "open" for p in self.pulls):
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": f"A pull request already exists for {self.owner}:{branch}."}],
                              docs=f"{DOCS}/pulls/pulls#create-a-pull-request")
        if not self.branch_commits(branch):
            raise GitHubError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom", "message": f"No commits between {base} and {branch}"}])
        pull = Pull(len(self.pulls) + 1, body.get("title", ""), body.get("body", ""), branch, base)
        self.pulls.append(pull)
        return 201, self._pull_json(pull)

    def update_pull(self, params, query, body):
        pull = self._pull(int(params["pull_number"]))
        if "title" in body:
            pull.title = body["title"]
        if "body" in body:
            pull.body = body["body"]
        if body.get("state") in ("open", "closed"):
            pull.state = body["state"]
        pull.updated_at = _now_iso()
        return 200, self._pull_json(pull)

    def get_label(self, params, query, body):
        if params["name"] not in self.labels:
            raise GitHubError(404, "Not Found", docs=f"{DOCS}/issues/labels#get-a-label")
        return 200, self.labels[params["name"]]

    def create_label(self, params, query, body):
        name = body.get("name")
        if not name:
            raise GitHubError(422, "Validation Failed", [{"resource": "Label", "field": "name", "code": "missing_field"}])
        if name in self.labels:
            raise GitHubError(422, "Validation Failed", [{"resource": "Label", "code": "already_exists", "field": "name"}])
        self.labels[name] = {"id": len(self.labels) + 1, "name": name, "color": body.get("color", "ededed"), "description": body.get("description"), "default": False}
        return 201, self.labels[name]

    def add_labels(self, params, query, body):
        pull = self._pull(int(params["issue_number"]))
        for name in body.get("labels", []):
            self.labels.setdefault(name, {"id": len(self.labels) + 1, "name": name, "color": "ededed", "description": None, "default": False})
            if name not in pull.labels:
                pull.labels.append(name)
        return 200, [self.labels[n] for n in pull.labels]

    def get_installation(self, params, query, body):
        if (params["owner"], params["repo"]) != (self.owner, self.repo):
            raise GitHubError(404, "Not Found")
        return 200, {"id": self.installation_id, "app_id": self.app_id, "target_type": "Organization"}

    def create_access_token(self, params, query, body):
        if int(params["installation_id"]) != self.installation_id:
            raise GitHubError(404, "Not Found")
        token = "ghs_" + hashlib.sha256(f"{time.time()}-{len(self.issued_tokens)}".encode()).hexdigest()[:36]
        expires = time.time() + 3600
        self.issued_tokens.append({"token": token, "expires": expires})
        return 201, {"token": token, "expires_at": datetime.fromtimestamp(expires, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "permissions": {"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"}, "repository_selection": "selected"}

    # MARK: - checks against GitHub's route table

    @staticmethod
    def spec_ops() -> dict[tuple[str, str], dict]:
        from ghapi.gh_spec import spec
        return {(op["verb"], op["path"]): op for op in spec["ops"]}

    @classmethod
    def check_routes_against_spec(cls) -> None:
        ops = cls.spec_ops()
        for verb, template, handler in cls.ROUTES:
            op = ops.get((verb, template))
            assert op is not None, f"the double serves {verb} {template}, which GitHub's route table does not have"
            extra = set(cls.QUERY.get(handler, [])) - set(op.get("query_params", []))
            assert not extra, f"{verb} {template}: query parameters {extra} are not GitHub's"

    def check_requests_against_spec(self) -> int:
        """Every request the bot sent: a GitHub route, GitHub's query parameters, GitHub's body
        fields, and every required body field present. Returns how many were checked."""
        ops = self.spec_ops()
        checked = 0
        for r in self.requests:
            op = ops.get((r.verb, r.template))
            assert op is not None, f"the bot sent {r.verb} {r.path}, which is no GitHub route"
            unknown_query = set(r.query) - set(op.get("query_params", []))
            assert not unknown_query, f"{r.verb} {r.template}: query parameters {unknown_query} are not in GitHub's table"
            body = r.body or {}
            unknown_body = set(body) - set(op.get("body_params", []))
            assert not unknown_body, f"{r.verb} {r.template}: body fields {unknown_body} are not in GitHub's table"
            required = set(op.get("required_params", [])) - set(op.get("route_params", []))
            missing = required - set(body) - set(r.query)
            assert not missing, f"{r.verb} {r.template}: required fields {missing} missing"
            checked += 1
        return checked
