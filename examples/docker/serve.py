"""A stand-in model server: lists the model's files over HTTP.

It runs only after `modelseal guard` verified the model, as the guard's own process.
"""

import argparse
import http.server
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    files = sorted(
        os.path.relpath(os.path.join(root, name), args.model)
        for root, _, names in os.walk(args.model)
        for name in names
    )
    body = json.dumps({"model": args.model, "files": files}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    print(f"serving {args.model} ({len(files)} files) on port {args.port}", flush=True)
    http.server.ThreadingHTTPServer(("", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
