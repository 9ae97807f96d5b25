"""The outbox (scripts/outbox.py), as a person sees it in a browser: after the service sent a real
email and a real SMS through FusionAuth's Python client, headless Chromium loads the page, takes a
screenshot and dumps the DOM; its metrics panel shows the counters the functions printed (their EMF
lines in FUNCTIONS_LOG). Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)."""

import importlib.util
import json
import os
import pathlib
import socket
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections import Counter
from html.parser import HTMLParser

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTBOX = ROOT / "scripts" / "outbox.py"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # A sandboxed frame otherwise gets its own renderer process, and on a busy machine the
    # screenshot was taken before it painted (2 of 5 blank); in-process it paints with the page.
    "--disable-features=IsolateSandboxedIframes",
]
WIDTH, HEIGHT = 1200, 1600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def outbox_url():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(OUTBOX), str(port), os.environ["MOTO_URL"], os.environ["FUNCTIONS_LOG"]]
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            assert server.poll() is None, "the outbox exited at start"
            try:
                requests.head(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"{CHROMIUM} is missing, so the outbox was not checked in a browser: install Debian's "
            "chromium (`apt-get install chromium`; .ci/run does)"
        )


def chromium(tmp_path: pathlib.Path, *args: str) -> str:
    """Runs headless Chromium once, with a new empty profile; returns what it printed."""
    profile = tmp_path / f"profile-{uuid.uuid4().hex}"
    profile.mkdir()
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the pixels of an 8-bit RGB or RGBA PNG (enough for a screenshot)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, pixels = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif kind == 2:
            row = bytearray((a + b) & 255 for a, b in zip(row, previous))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.extend(bytes(row[x:x + 3]) for x in range(0, stride, bpp))
        previous = row
    return width, height, pixels


class Articles(HTMLParser):
    """Each <article> of the page in order: its text, links and frames."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.inside = True
            self.items.append({"channel": attrs.get("data-channel"), "text": "", "links": [],
                               "frames": [], "time": None})
        elif self.inside and tag == "a":
            self.items[-1]["links"].append(attrs.get("href"))
        elif self.inside and tag == "iframe":
            self.items[-1]["frames"].append(attrs)
        elif self.inside and tag == "time":
            self.items[-1]["time"] = attrs.get("datetime")

    def handle_endtag(self, tag):
        if tag == "article":
            self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.items[-1]["text"] += data


def test_the_outbox_shows_the_email_and_the_sms_the_service_sent_newest_first(
    client, web_app, outbox_url, tmp_path
):
    require_chromium()
    marker = uuid.uuid4().hex
    email_start = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "gilfoyle@piedpiper.com", "state": {"m": marker}}
    )
    assert email_start.status == 200, email_start.error_response
    code = email_start.success_response["code"]
    assert client.send_passwordless_code({"code": code}).status == 200
    sms_start = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "303-555-1212", "loginIdTypes": ["phoneNumber"]}
    )
    assert sms_start.status == 200, sms_start.error_response
    one_time_code = sms_start.success_response["oneTimeCode"]
    assert client.send_passwordless_code({"code": sms_start.success_response["code"]}).status == 200

    recorded = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    email = next(m for m in recorded["ses"]["Message"] if marker in m["body"])
    sms = [s for s in recorded["sns"]["SMS"] if s["phone_number"] == "+13035551212"][-1]
    assert one_time_code in sms["message"]

    # What a person sees: a full, non-blank page.
    shot = tmp_path / "outbox.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", outbox_url)
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    colours = Counter(pixels)
    assert len(colours) >= 100, f"only {len(colours)} colours: a blank page?"
    assert colours.most_common(1)[0][1] < 0.9 * len(pixels), "one colour fills the page"
    if os.environ.get("OUTBOX_SCREENSHOT"):
        pathlib.Path(os.environ["OUTBOX_SCREENSHOT"]).write_bytes(shot.read_bytes())

    # What the page says, as the browser built it.
    page = Articles()
    page.feed(chromium(tmp_path, "--dump-dom", outbox_url))
    newest, second = page.items[0], page.items[1]
    times = [item["time"] for item in page.items]
    assert times == sorted(times, reverse=True), "not newest first"

    assert newest["channel"] == "sms"
    assert "+13035551212" in newest["text"]
    assert sms["message"] in newest["text"]  # the whole text, one-time code included
    assert one_time_code in newest["text"]

    assert second["channel"] == "email"
    assert "gilfoyle@piedpiper.com" in second["text"]
    assert email["subject"] and email["subject"] in second["text"]
    magic = [h for h in second["links"] if h.startswith(f"https://piedpiper.com/oauth2/passwordless/{code}?")]
    assert magic and marker in magic[0], second["links"]
    (frame,) = second["frames"]
    assert frame["sandbox"] == "", "the email must be shown without scripts"
    assert f"/oauth2/passwordless/{code}?" in frame["srcdoc"]


class MetricRows(HTMLParser):
    """Each metric row of the panel: metric, dimensions and the total shown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.cells: list[str] | None = None
        self.refresh = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "metric":
            self.rows.append({"metric": attrs["data-metric"], "dimensions": attrs["data-dimensions"]})
            self.cells = []
        elif tag == "td" and self.cells is not None:
            self.cells.append("")
        elif tag == "meta" and attrs.get("http-equiv") == "refresh":
            self.refresh = attrs.get("content")

    def handle_endtag(self, tag):
        if tag == "tr" and self.cells is not None:
            self.rows[-1]["total"] = self.cells[-1]
            self.cells = None

    def handle_data(self, data):
        if self.cells:
            self.cells[-1] += data


def panel_total(rows: list[dict], metric: str, dimensions: str) -> float:
    found = [r for r in rows if r["metric"] == metric and r["dimensions"] == dimensions]
    assert found, f"no {metric} {dimensions} row in {rows}"
    return float(found[0]["total"])


def test_the_outbox_metrics_panel_counts_what_the_functions_reported(
    client, web_app, outbox_url, tmp_path
):
    require_chromium()
    metrics_url = outbox_url + "metrics"
    before = MetricRows()
    before.feed(chromium(tmp_path, "--dump-dom", metrics_url))
    sms_start = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "720-555-0147", "loginIdTypes": ["phoneNumber"]}
    )
    assert sms_start.status == 200, sms_start.error_response
    assert client.send_passwordless_code({"code": sms_start.success_response["code"]}).status == 200
    assert client.passwordless_login({"code": "not-a-code-" + uuid.uuid4().hex}).status == 404

    after = MetricRows()
    deadline = time.time() + 10  # the watch's output reaches the log file within moments
    while True:
        after = MetricRows()
        after.feed(chromium(tmp_path, "--dump-dom", metrics_url))
        sent = [r for r in after.rows if r["metric"] == "Sent" and r["dimensions"] == "Function=send, Channel=sms, Country=US"]
        if sent or time.time() > deadline:
            break
        time.sleep(0.5)
    assert after.refresh, "the panel reloads itself"

    def grew(metric, dimensions, by=1):
        old = panel_total(before.rows, metric, dimensions) if any(
            r["metric"] == metric and r["dimensions"] == dimensions for r in before.rows) else 0
        assert panel_total(after.rows, metric, dimensions) >= old + by, (metric, dimensions, after.rows)

    grew("Sent", "Function=send, Channel=sms, Country=US")
    grew("Requests", "Function=start, Outcome=success, Status=200")
    grew("Requests", "Function=login, Outcome=refused, Status=404")
    grew("RefusedCodes", "Function=login")
    assert any(r["metric"] == "AwsCallLatency" and r["dimensions"] == "Function=start" for r in after.rows)
    assert "+17205550147" not in str(after.rows) and "5550147" not in str(after.rows)

    # The page itself frames the panel.
    page = chromium(tmp_path, "--dump-dom", outbox_url)
    assert '<iframe src="/metrics"' in page


def load_outbox_module():
    spec = importlib.util.spec_from_file_location("outbox", OUTBOX)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_outbox_escapes_what_it_shows_and_links_only_http_urls():
    outbox = load_outbox_module()
    hostile = "<script>alert(1)</script>"
    body = (
        f'<p>{hostile}</p><a href="javascript:alert(1)//oauth2/passwordless/x">x</a>'
        '<a href="https://a.example/oauth2/passwordless/c0de?tenantId=t&amp;m=&quot;&gt;">go</a>'
    )
    email = outbox.render_item({
        "channel": "email", "id": "1", "sent_at": "2026-01-01T00:00:00+00:00", "position": 0,
        "to": [f"{hostile}@example.com"], "from": hostile, "subject": hostile, "body": body,
    })
    sms = outbox.render_item({
        "channel": "sms", "id": "2", "sent_at": "2026-01-01T00:00:01+00:00", "position": 1,
        "to": ["+15555550100"], "body": f"123456 {hostile}",
    })
    assert "<script" not in email and "<script" not in sms
    assert "javascript:" not in email.split("<iframe")[0]  # only http(s) links are made clickable
    assert 'href="https://a.example/oauth2/passwordless/c0de?tenantId=t&amp;m=&quot;&gt;"' in email
    assert '<iframe sandbox=""' in email
    assert '<strong class="otp">123456</strong>' in sms


def test_the_metrics_panel_adds_up_emf_lines_and_ignores_the_rest_of_the_log(tmp_path):
    outbox = load_outbox_module()
    emf = lambda metric, value, **dims: json.dumps({  # noqa: E731
        metric: value, "Function": "send", **dims,
        "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N",
                 "Dimensions": [["Function"], ["Function", *dims]],
                 "Metrics": [{"Name": metric, "Unit": "Count"}]}]}}, sort_keys=True)
    log = tmp_path / "functions.log"
    log.write_text("\n".join([
        emf("Sent", 1, Channel="sms"),
        "[send] " + emf("Sent", 1, Channel="sms"),  # a prefix before the document
        emf("Sent", 1, Channel="email"),
        emf("AwsCallLatency", [2.5, 4.0]),  # a list: one sample each
        emf("AwsCallLatency", [1.5]),
        ' INFO passwordless SMS sent to=+1******0147',
        '{"level":"INFO","message":"not a metric"}',
        '{"_aws": "truncated',
    ]) + "\n")
    totals = {(t["metric"], t["dimensions"]): t["sum"] for t in outbox.metric_totals(outbox.read_metrics(str(log)))}
    assert totals == {
        ("Sent", (("Function", "send"), ("Channel", "sms"))): 2,
        ("Sent", (("Function", "send"), ("Channel", "email"))): 1,
        ("AwsCallLatency", (("Function", "send"),)): 8.0,
    }
    latency = [t for t in outbox.metric_totals(outbox.read_metrics(str(log))) if t["metric"] == "AwsCallLatency"]
    assert (latency[0]["count"], latency[0]["max"]) == (3, 4.0)
    panel = outbox.render_metrics(str(log))
    assert '<meta http-equiv="refresh"' in panel and "<script" not in panel
