"""Latency of the answers an attacker compares (issue 7, property 5), through the local service:
login's 404 for an unknown, used, superseded or expired code and for a deactivated user's code;
legacy send for a known and an unknown login id. Prints the median (and p90) of each, interleaved
so that drift hits every case alike. Measured, not asserted: the tests assert the bytes are the
same (tests/tests/api/enumeration.rs).

Run with `scripts/soak.sh --enumeration` (which starts the stack with the soak kickstart: a short
code lifetime, many users, send limits out of the way), or against a running stack loaded with
it: enumeration_latency.py BASE_URL  (env: SAMPLES, TTL)."""

import os
import random
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
from soak import API_KEY, TTL, USERS, WEB_APP  # noqa: E402

SAMPLES = int(os.environ.get("SAMPLES", "200"))


def main() -> int:
    base = sys.argv[1]
    session = requests.Session()

    def post(endpoint, body, headers=None):
        started = time.perf_counter()
        r = session.post(f"{base}/api/passwordless/{endpoint}", json=body, headers=headers or {},
                         timeout=30)
        return r, time.perf_counter() - started

    def start(login_id):
        r, _ = post("start", {"applicationId": WEB_APP, "loginId": login_id},
                    {"Authorization": API_KEY})
        assert r.status_code == 200, r.text
        return r.json()["code"]

    users = [f"soak{i}@piedpiper.com" for i in range(USERS)]
    rng = random.Random(7)

    # Codes to probe, made up front: expired ones first, so that they expire meanwhile.
    print(f"preparing {SAMPLES} codes of each kind...", flush=True)
    expired = [start(users[i % USERS]) for i in range(SAMPLES)]
    deadline = time.monotonic() + TTL + 1
    used, superseded = [], []
    for i in range(SAMPLES):
        user = users[(i + SAMPLES) % USERS]
        first = start(user)
        second = start(user)
        superseded.append(first)
        r, _ = post("login", {"code": second, "applicationId": WEB_APP})
        assert r.status_code == 200, r.text
        used.append(second)
    time.sleep(max(0.0, deadline - time.monotonic()))

    cases = {
        "login unknown code": lambda i: ("login", {"code": f"unknown{rng.getrandbits(128):032x}"}),
        "login used code": lambda i: ("login", {"code": used[i]}),
        "login superseded code": lambda i: ("login", {"code": superseded[i]}),
        "login expired code": lambda i: ("login", {"code": expired[i]}),
        "legacy send known loginId": lambda i: (
            "send", {"applicationId": WEB_APP, "loginId": users[(i + SAMPLES) % USERS]}),
        "legacy send unknown loginId": lambda i: (
            "send", {"applicationId": WEB_APP, "loginId": f"nobody{i}@piedpiper.com"}),
    }
    timings = {name: [] for name in cases}
    timings["login deactivated user"] = []
    answers = {name: set() for name in timings}
    for i in range(SAMPLES):
        order = list(cases)
        rng.shuffle(order)
        for name in order:
            endpoint, body = cases[name](i)
            body.setdefault("applicationId", WEB_APP)
            r, seconds = post(endpoint, body)
            timings[name].append(seconds)
            answers[name].add(r.status_code)
        # The deactivated user's code: made now, so that it is bighead's newest.
        code = start("bighead@hooli.com")
        r, seconds = post("login", {"code": code, "applicationId": WEB_APP})
        timings["login deactivated user"].append(seconds)
        answers["login deactivated user"].add(r.status_code)

    print(f"\n{SAMPLES} samples each, interleaved (ms):")
    print(f"  {'case':30} {'median':>7} {'p90':>7}  statuses")
    for name, values in timings.items():
        values.sort()
        print(f"  {name:30} {statistics.median(values) * 1000:7.1f} "
              f"{values[int(len(values) * 0.9)] * 1000:7.1f}  {sorted(answers[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
