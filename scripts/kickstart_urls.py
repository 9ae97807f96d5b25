"""Points a kickstart file's loopback URLs at the ports a run actually serves on.

    kickstart_urls.py IN OUT [--service http://127.0.0.1:PORT] [--example http://127.0.0.1:PORT]

Kickstart files name the service as http://127.0.0.1:9011 (`make dev`'s default PORT) and the
example app (examples/oidc-web-app) as http://127.0.0.1:9013 (`EXAMPLE_PORT`). Every string that
is one of those origins, or starts with one followed by `/` or `?` (a tenant `issuer`, a
`baseURL`, an authorized redirect URL, a `logoutURL`), gets the given origin instead, so that the
issuer the tokens carry, the discovery document and the links mailed all name the port served.
Python's standard library only.
"""

from __future__ import annotations

import argparse
import json
import pathlib

SERVICE = "http://127.0.0.1:9011"
EXAMPLE = "http://127.0.0.1:9013"


def rebase(value, origins: dict[str, str]):
    if isinstance(value, dict):
        return {key: rebase(item, origins) for key, item in value.items()}
    if isinstance(value, list):
        return [rebase(item, origins) for item in value]
    if isinstance(value, str):
        for old, new in origins.items():
            if value == old or value.startswith((old + "/", old + "?")):
                return new + value[len(old):]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=pathlib.Path)
    parser.add_argument("target", type=pathlib.Path)
    parser.add_argument("--service", default=SERVICE, help="the origin the functions are served on")
    parser.add_argument("--example", default=EXAMPLE, help="the origin the example app is served on")
    args = parser.parse_args()
    origins = {SERVICE: args.service.rstrip("/"), EXAMPLE: args.example.rstrip("/")}
    kickstart = json.loads(args.source.read_text())
    args.target.write_text(json.dumps(rebase(kickstart, origins), indent=2) + "\n")


if __name__ == "__main__":
    main()
