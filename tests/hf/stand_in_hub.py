"""A stand-in for the Hugging Face Hub's HTTP API on loopback, for the `hf` tests.

It serves what `huggingface_hub.snapshot_download` (the pinned 2.4.0) asks for, from a folder:
    ROOT/refs.json                          {"models/org/name": {"main": COMMIT, "v2": COMMIT}, ...}
    ROOT/models/org/name/COMMIT/PATH        the files of each commit (datasets/, spaces/ alike)
Endpoints and headers, as the client reads them:
    GET  /api/{type}s/{repo}/revision/{rev}     {"id", "sha", "siblings"}   (repo_info)
    GET  /api/{type}s/{repo}/tree/{rev}          [{"type": "file", "path", "size", "oid", "lfs"}]
    HEAD/GET /{repo}/resolve/{rev}/{path}        (models; /datasets/{repo}/…, /spaces/{repo}/…)
         X-Repo-Commit, ETag (the git blob SHA-1), and for an LFS file X-Linked-Etag (its SHA-256)
         and X-Linked-Size, as the Hub sends them.
Files ending in .safetensors or .bin are LFS files. Prints the port it listens on, then serves.
"""

import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

ROOT = sys.argv[1]
TYPES = {"models": "models", "datasets": "datasets", "spaces": "spaces"}


def refs():
    with open(os.path.join(ROOT, "refs.json")) as f:
        return json.load(f)


def commit_of(kind, repo, rev):
    r = refs().get(f"{kind}/{repo}")
    if r is None:
        return None
    if rev in r.values():
        return rev
    return r.get(rev)


def files_of(kind, repo, commit):
    base = os.path.join(ROOT, kind, repo, commit)
    out = []
    for dirpath, _, names in os.walk(base):
        for n in names:
            full = os.path.join(dirpath, n)
            out.append(os.path.relpath(full, base))
    return base, sorted(out)


def describe(path):
    data = open(path, "rb").read()
    git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    lfs = path.endswith((".safetensors", ".bin"))
    return data, git, (hashlib.sha256(data).hexdigest() if lfs else None)


class Hub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", headers=(), head=False):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def json(self, obj):
        self.send(200, json.dumps(obj).encode(), [("Content-Type", "application/json")])

    def route(self, head):
        path = unquote(urlsplit(self.path).path)
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 6 and parts[1] in TYPES:
            kind, repo, op, rev = parts[1], "/".join(parts[2:4]), parts[4], parts[5]
            commit = commit_of(kind, repo, rev)
            if commit is None:
                return self.send(404, b'{"error": "Repository not found"}', [("X-Error-Code", "RepoNotFound")])
            base, names = files_of(kind, repo, commit)
            if op == "revision":
                return self.json({"id": repo, "sha": commit, "siblings": [{"rfilename": n} for n in names]})
            if op == "tree":
                listing = []
                for n in names:
                    data, git, sha = describe(os.path.join(base, n))
                    entry = {"type": "file", "path": n, "size": len(data), "oid": git}
                    if sha:
                        entry["lfs"] = {"oid": sha, "size": len(data), "pointerSize": 134}
                    listing.append(entry)
                return self.json(listing)
            return self.send(404)
        kind = "models"
        if parts[0] in ("datasets", "spaces"):
            kind, parts = parts[0], parts[1:]
        if len(parts) >= 5 and parts[2] == "resolve":
            repo, rev, name = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
            commit = commit_of(kind, repo, rev)
            if commit is None:
                return self.send(404, b"", [("X-Error-Code", "RepoNotFound")], head)
            base, names = files_of(kind, repo, commit)
            if name not in names:
                return self.send(404, b"", [("X-Error-Code", "EntryNotFound")], head)
            data, git, sha = describe(os.path.join(base, name))
            headers = [("X-Repo-Commit", commit), ("ETag", f'"{git}"'), ("Accept-Ranges", "bytes")]
            if sha:
                headers += [("X-Linked-Etag", f'"{sha}"'), ("X-Linked-Size", str(len(data)))]
            return self.send(200, data, headers, head)
        return self.send(404, b"", [], head)

    def do_GET(self):
        self.route(False)

    def do_HEAD(self):
        self.route(True)


server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
print(server.server_address[1], flush=True)
server.serve_forever()
