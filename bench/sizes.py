"""Sizes of the release binaries and of the bootstraps `sam build` made, and which HTTP, TLS and
crypto stacks each function links.

    python3 bench/sizes.py BIN_DIR SAM_BUILD_DIR   # prints JSON
"""

import json
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "scripts"))
import local_iam  # noqa: E402  (template.yaml's functions, as the local stack reads them)

rel, sam_build = sys.argv[1:3]
# Each function's binary and the logical id `sam build` names its directory by.
DEPLOYED = {f["binary"]: name for name, f in local_iam.functions().items()}


def stripped(path):
    # The profile strips; a symbol table left would show here.
    return ".symtab" not in subprocess.run(
        ["readelf", "-S", "-W", path], capture_output=True, text=True).stdout


out = {}
for fn in [*DEPLOYED, "hello"]:
    path = os.path.join(rel, fn)
    entry = {"bytes": os.path.getsize(path), "stripped": stripped(path)}
    if fn != "hello":
        # What Lambda runs: the template's architecture (arm64), as `sam build` built it.
        bootstrap = os.path.join(sam_build, DEPLOYED[fn], "bootstrap")
        entry["deployed_bytes"] = os.path.getsize(bootstrap)
        entry["deployed_stripped"] = stripped(bootstrap)
        for spec in ("ring", "aws-lc-sys", "openssl-sys", "hyper@0.14", "hyper@1",
                     "rustls@0.21", "rustls@0.23"):
            r = subprocess.run(["cargo", "tree", "--offline", "-e", "normal", "-p", fn, "-i", spec],
                               capture_output=True, text=True)
            entry[spec] = r.returncode == 0 and bool(r.stdout.strip())
    out[fn] = entry
print(json.dumps(out))
