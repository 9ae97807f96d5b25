"""Sustained load against the local service (`scripts/soak.sh` starts it): mixed start / send /
login for DURATION seconds (300) from WORKERS threads, as fast as the service answers. Checks, at the
end: no 5xx; every started code was logged in exactly once or expired unused (none lost, none
doubled); one refresh token and one login record per successful login; the functions' memory
flat (RSS sampled after warm-up and at the end).

Usage: soak.py --kickstart FILE   writes the soak kickstart (the example plus 400 users, a code
                                  lifetime of TTL seconds, send limits out of the way)
       soak.py BASE_URL MOTO_URL WATCH_PID   runs the load (env: DURATION, WORKERS (4), TTL,
                                  DIRECTORY_TABLE, CODES_TABLE)"""

import collections
import json
import os
import pathlib
import random
import statistics
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "tests" / "fixtures" / "kickstart.example.json").read_text())
WEB_APP = EXAMPLE["applications"][0]["id"]
TENANT = EXAMPLE["tenants"][0]["id"]
API_KEY = next(k["key"] for k in EXAMPLE["apiKeys"] if not k.get("permissions"))
USERS = 400
TTL = int(os.environ.get("TTL", "20"))
LOGGED_IN = {200, 202, 212, 213}


def soak_user(i: int) -> dict:
    return {
        "id": f"50a50000-0000-4000-8000-{i:012x}",
        "tenantId": TENANT,
        "email": f"soak{i}@piedpiper.com",
        "registrations": [{"applicationId": WEB_APP, "roles": ["user"]}],
    }


def write_kickstart(path: str) -> None:
    kickstart = json.loads(json.dumps(EXAMPLE))
    tenant = kickstart["tenants"][0]
    tenant["externalIdentifierConfiguration"]["passwordlessLoginTimeToLiveInSeconds"] = TTL
    for limit in tenant["rateLimitConfiguration"].values():
        limit.update({"enabled": True, "limit": 100000, "timePeriodInSeconds": 60})
    kickstart["users"] += [soak_user(i) for i in range(USERS)]
    pathlib.Path(path).write_text(json.dumps(kickstart))


def rss_by_process(watch_pid: int) -> dict[int, tuple[str, int]]:
    """Resident memory (KiB) of each function process under `cargo lambda watch`, by pid."""
    children = collections.defaultdict(list)
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                children[int(fields[1])].append(int(proc.name))
            except OSError:
                continue
    found = {}
    stack = [watch_pid]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if exe in ("start", "send", "login"):
            rss = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS:"))
            found[pid] = (exe, rss)
    return found


def by_function(processes: dict[int, tuple[str, int]]) -> dict[str, str]:
    totals = collections.defaultdict(list)
    for exe, rss in processes.values():
        totals[exe].append(rss)
    return {f: f"{len(r)} processes, {sum(r)} KiB" for f, r in sorted(totals.items())}


class NoAnswer:
    status_code = 0
    text = ""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = collections.Counter()
        self.latencies = collections.defaultdict(list)
        self.server_errors = []
        # code -> list of login statuses; abandoned codes are logged in only after they expire.
        self.logins = {}
        self.abandoned = []

    def record(self, endpoint, status, seconds, detail=""):
        with self.lock:
            self.statuses[(endpoint, status)] += 1
            self.latencies[endpoint].append(seconds)
            if status >= 500 or status == 0:
                self.server_errors.append((endpoint, status, detail[:200]))


def worker(n, workers, base_url, deadline, stats, abandon_users):
    import requests

    session = requests.Session()
    rng = random.Random(n)
    own = [i for i in range(USERS) if i % workers == n and i not in abandon_users]

    def call(endpoint, body, headers=None):
        started = time.monotonic()
        try:
            response = session.post(f"{base_url}/api/passwordless/{endpoint}", json=body,
                                    headers=headers or {}, timeout=30)
        except requests.RequestException as error:
            # No answer within 30 s counts as a failure (status 0), and the worker goes on.
            stats.record(endpoint, 0, time.monotonic() - started, str(error))
            return NoAnswer()
        stats.record(endpoint, response.status_code, time.monotonic() - started, response.text)
        return response

    while time.monotonic() < deadline:
        user = rng.choice(own)
        strategy = rng.choice(["ClickableLink", "FormField"])
        start = call("start", {"applicationId": WEB_APP, "loginId": f"soak{user}@piedpiper.com",
                               "loginStrategy": strategy}, {"Authorization": API_KEY})
        if start.status_code != 200:
            continue
        code, otc = start.json()["code"], start.json().get("oneTimeCode")
        if rng.random() < 0.7:
            call("send", {"code": code})
        body = {"code": code, "applicationId": WEB_APP}
        if otc:
            body["oneTimeCode"] = otc
        attempts = 2 if rng.random() < 0.2 else 1  # a retried or double-submitted login
        statuses = [call("login", body).status_code for _ in range(attempts)]
        with stats.lock:
            stats.logins[code] = statuses
        # Now and then a start whose code is never used: it must expire, not linger.
        if abandon_users and rng.random() < 0.05:
            with stats.lock:
                victim = abandon_users.pop() if abandon_users else None
            if victim is not None:
                gone = call("start", {"applicationId": WEB_APP,
                                      "loginId": f"soak{victim}@piedpiper.com"},
                            {"Authorization": API_KEY})
                if gone.status_code == 200:
                    with stats.lock:
                        stats.abandoned.append(gone.json()["code"])


def scan(moto_url, table):
    import boto3

    # The admin credentials of the harness (scripts/local_iam.py admin).
    dynamo = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1",
                          aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    items, kwargs = [], {"TableName": table}
    while True:
        page = dynamo.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main() -> int:
    if sys.argv[1] == "--kickstart":
        write_kickstart(sys.argv[2])
        return 0
    import requests

    base_url, moto_url, watch_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    duration = float(os.environ.get("DURATION", "300"))
    workers = int(os.environ.get("WORKERS", "4"))
    directory, codes = os.environ["DIRECTORY_TABLE"], os.environ["CODES_TABLE"]

    # Warm every instance up (as many clients as the soak) before the first memory sample.
    warm = Stats()
    warmers = [threading.Thread(target=worker, args=(n, workers, base_url,
                                                     time.monotonic() + 20, warm, []))
               for n in range(workers)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join()
    rss_start = rss_by_process(watch_pid)
    print(f"RSS after warm-up: {by_function(rss_start)}", flush=True)

    stats = Stats()
    abandon_users = [i for i in range(USERS) if i % 10 == 9]
    abandon_pool = list(abandon_users)
    deadline = time.monotonic() + duration
    started_at = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n, workers, base_url, deadline, stats,
                                                     abandon_pool)) for n in range(workers)]
    for t in threads:
        t.start()
    next_report = started_at + 30
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if time.monotonic() >= next_report:
            with stats.lock:
                done = sum(stats.statuses.values())
            print(f"  {time.monotonic() - started_at:5.0f} s: {done} requests", flush=True)
            next_report += 30
    elapsed = time.monotonic() - started_at
    rss_end = rss_by_process(watch_pid)

    # Abandoned codes: once past their lifetime, refused, and never logged in.
    time.sleep(TTL + 1)
    late = [requests.post(f"{base_url}/api/passwordless/login",
                          json={"code": c, "applicationId": WEB_APP}, timeout=30).status_code
            for c in stats.abandoned]

    total = sum(stats.statuses.values())
    def wins(statuses):
        return sum(1 for s in statuses if s in LOGGED_IN)

    successes = sum(wins(s) for s in stats.logins.values())
    lost = [c for c, s in stats.logins.items() if wins(s) == 0]
    doubled = [c for c, s in stats.logins.items() if wins(s) > 1]
    refresh_tokens = sum(1 for i in scan(moto_url, codes) if i["pk"]["S"].startswith("REFRESHTOKEN#"))
    login_records = sum(1 for i in scan(moto_url, directory) if i["pk"]["S"].startswith("LOGIN#"))
    warm_successes = sum(wins(s) for s in warm.logins.values())

    print(f"\n{total} requests in {elapsed:.0f} s: {total / elapsed:.1f} requests/s "
          f"({len(stats.logins) / elapsed:.1f} login flows/s) from {workers} workers")
    for endpoint in ("start", "send", "login"):
        lat = sorted(stats.latencies[endpoint])
        if lat:
            print(f"  {endpoint:5}: {len(lat):6} requests, median {statistics.median(lat) * 1000:.0f} ms, "
                  f"p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.0f} ms")
    print("  statuses:", dict(sorted((f"{e} {s}", n) for (e, s), n in stats.statuses.items())))
    print(f"  codes logged in: {successes} of {len(stats.logins)} started for login; "
          f"lost {len(lost)}, doubled {len(doubled)}")
    print(f"  abandoned codes: {len(stats.abandoned)}, refused after expiry: {late.count(404)}")
    print(f"  refresh tokens stored: {refresh_tokens}, login records: {login_records} "
          f"(logins incl. warm-up: {successes + warm_successes})")
    print(f"  RSS after warm-up {by_function(rss_start)}; at the end {by_function(rss_end)}")

    failures = []
    if stats.server_errors:
        failures.append(f"{len(stats.server_errors)} 5xx or no answer, e.g. {stats.server_errors[:3]}")
    if lost or doubled:
        failures.append(f"lost {len(lost)}, doubled {len(doubled)} logins")
    if late.count(404) != len(late):
        failures.append(f"abandoned codes not refused after expiry: {late}")
    if not refresh_tokens == login_records == successes + warm_successes:
        failures.append(f"{refresh_tokens} refresh tokens and {login_records} login records "
                        f"for {successes + warm_successes} logins")
    # Flat: each process measured at both ends within a quarter and 8 MiB of its warmed-up size
    # (allocator noise, debug build). A process spawned later has no start to compare with.
    for pid, (function, before) in rss_start.items():
        after = rss_end.get(pid, (function, 0))[1]
        if after > before * 1.25 + 8192:
            failures.append(f"{function} (pid {pid}) RSS grew from {before} to {after} KiB")
    if not stats.logins:
        failures.append("no login flow completed")
    if not rss_start:
        failures.append("found no function processes to measure")
    for failure in failures:
        print("FAIL:", failure)
    print("soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
