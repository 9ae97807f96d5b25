"""Sizes of the release binaries and which HTTP, TLS and crypto stacks each function links.

    python3 bench/sizes.py BIN_DIR   # prints JSON
"""

import json
import os
import subprocess
import sys

rel = sys.argv[1]
out = {}
for fn in ("start", "send", "login", "hello"):
    path = os.path.join(rel, fn)
    # The profile strips; a symbol table left would show here.
    entry = {"bytes": os.path.getsize(path),
             "stripped": ".symtab" not in subprocess.run(
                 ["readelf", "-S", "-W", path], capture_output=True, text=True).stdout}
    if fn != "hello":
        for spec in ("ring", "aws-lc-sys", "openssl-sys", "hyper@0.14", "hyper@1",
                     "rustls@0.21", "rustls@0.23"):
            r = subprocess.run(["cargo", "tree", "--offline", "-e", "normal", "-p", fn, "-i", spec],
                               capture_output=True, text=True)
            entry[spec] = r.returncode == 0 and bool(r.stdout.strip())
    out[fn] = entry
print(json.dumps(out))
