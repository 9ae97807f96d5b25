"""The outbox: every email and SMS the service sent through the local emulator, on one page.

    .venv/bin/python scripts/outbox.py [PORT] [MOTO_URL] [FUNCTIONS_LOG]

Serves http://127.0.0.1:PORT/ (default $OUTBOX_PORT, else 9012), reading moto's
MOTO_URL/moto-api/sent.json (default $AWS_ENDPOINT_URL, else http://127.0.0.1:5055) on every
request: nothing is cached, a reload shows what was sent since. Newest first: recipient, sender,
subject, the magic link as a link, the HTML email in a sandboxed frame (no scripts, no network),
and each SMS with its one-time code picked out. Everything shown is HTML-escaped.

The page also has a live panel of the service's metrics (`/metrics`, in a frame that reloads
itself every few seconds, no script): the CloudWatch EMF lines the functions print
(shared/src/metrics.rs), read from FUNCTIONS_LOG (the functions' output, default
$FUNCTIONS_LOG) and added up by metric and dimensions, as CloudWatch would.

moto keeps no send times; scripts/moto_server.py stamps each email and SMS with `sent_at`. Against
another moto, messages are ordered by when this server first saw them.
"""

import collections
import html
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

MAGIC_LINK = re.compile(r"/oauth2/passwordless/([^/?#\s\"'<>&]+)")
URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+|/oauth2/passwordless/[^\s\"'<>]+")
ONE_TIME_CODE = re.compile(r"(?<![\w-])(\d{4,10})(?![\w-])")

# The page and the emails in it may load nothing from anywhere: no scripts, no remote images.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# id -> time this process first saw the message: the order when moto gives no `sent_at`.
first_seen: dict[str, str] = {}


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")  # as moto_server.py


class Links(HTMLParser):
    """The href of every <a> in an email body, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href.strip())


def magic_links(body: str) -> list[str]:
    """The passwordless links in a message body, in order, without duplicates."""
    parser = Links()
    try:
        parser.feed(body)
        parser.close()
    except Exception:  # a malformed body still gets the plain-text scan below
        pass
    candidates = parser.hrefs + [html.unescape(u) for u in URL_IN_TEXT.findall(body)]
    found: list[str] = []
    for url in candidates:
        if MAGIC_LINK.search(url) and url not in found and safe_url(url):
            found.append(url)
    return found


def safe_url(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("http", "https") or (scheme == "" and url.startswith("/"))


def code_of(link: str) -> str:
    return unquote(MAGIC_LINK.search(link).group(1))


def read_outbox(moto_url: str) -> list[dict]:
    """Every email and SMS moto recorded, newest first."""
    with urllib.request.urlopen(moto_url.rstrip("/") + "/moto-api/sent.json", timeout=10) as r:
        data = json.load(r)
    items = []
    ses = data.get("ses", {})
    for m in ses.get("Message", []):
        dest = m.get("destinations") or {}
        items.append({
            "channel": "email",
            "id": m.get("id", ""),
            "sent_at": m.get("sent_at"),
            "to": dest.get("ToAddresses", []),
            "cc": dest.get("CcAddresses", []),
            "bcc": dest.get("BccAddresses", []),
            "from": m.get("source", ""),
            "subject": m.get("subject", ""),
            "body": m.get("body", ""),
        })
    for m in ses.get("RawMessage", []):
        items.append({
            "channel": "raw email",
            "id": m.get("id", ""),
            "sent_at": m.get("sent_at"),
            "to": m.get("destinations", []),
            "from": m.get("source", ""),
            "body": m.get("raw_data", ""),
        })
    for m in data.get("sns", {}).get("SMS", []):
        items.append({
            "channel": "sms",
            "id": m.get("message_id", ""),
            "sent_at": m.get("sent_at"),
            "to": [m.get("phone_number", "")],
            "body": m.get("message", ""),
        })
    for position, item in enumerate(items):
        item["position"] = position
        if not item["sent_at"]:
            item["sent_at"] = first_seen.setdefault(item["channel"] + item["id"], now_iso())
    # moto lists each kind in send order; the stamps order the kinds among themselves.
    items.sort(key=lambda i: (i["sent_at"], i["position"]), reverse=True)
    return items


STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #eef1f5; color: #1d2430;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header { background: #1d2430; color: #fff; padding: 16px 32px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #c4ccd8; font-size: 13px; }
main { max-width: 1040px; margin: 0 auto; padding: 20px 32px 40px; }
.empty, .error { background: #fff; border-radius: 8px; padding: 24px; }
.error { border-left: 6px solid #c0392b; }
article { background: #fff; border-radius: 8px; margin: 0 0 18px; padding: 16px 20px;
  box-shadow: 0 1px 3px rgba(20, 30, 50, .15); border-left: 6px solid #2f6fdb; }
article.sms { border-left-color: #1e9e6a; }
.meta { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.badge { font-size: 12px; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
  color: #fff; background: #2f6fdb; border-radius: 4px; padding: 2px 8px; }
.sms .badge { background: #1e9e6a; }
.to { font-weight: 600; font-size: 16px; }
time { color: #5b6576; font-size: 13px; margin-left: auto; }
h2 { margin: 8px 0 4px; font-size: 18px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0;
  font-size: 13px; color: #3c4656; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
.link { margin: 10px 0; padding: 10px 12px; background: #f3f7ff; border-radius: 6px;
  overflow-wrap: anywhere; }
.link a { font-weight: 600; color: #1a56c4; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
iframe { width: 100%; height: 260px; border: 1px solid #d5dbe4; border-radius: 6px;
  background: #fff; resize: vertical; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; background: #f2fbf6; border-radius: 6px;
  padding: 10px 12px; margin: 10px 0 0; font-size: 16px; }
.metrics { background: #fff; border-radius: 8px; margin: 0 0 18px; padding: 12px 16px;
  box-shadow: 0 1px 3px rgba(20, 30, 50, .15); border-left: 6px solid #8a5cd6; }
.metrics h2 { margin: 0 0 6px; font-size: 16px; }
.metrics iframe { height: 220px; border: 0; }
.otp { font: 700 20px ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing: .12em;
  background: #fff3bf; padding: 0 4px; border-radius: 4px; }
"""


def render_links(links: list[str]) -> str:
    return "".join(
        f'<p class="link">Magic link: <a class="magic-link" href="{esc(link)}" '
        f'rel="noopener noreferrer">{esc(link)}</a><br>code: <code>{esc(code_of(link))}</code></p>'
        for link in links
    )


def render_sms_text(text: str) -> str:
    """The SMS text, escaped, with one-time codes highlighted (digits inside URLs are not)."""
    out, last = [], 0
    for url in URL_IN_TEXT.finditer(text):
        out.append(highlight_codes(text[last:url.start()]))
        out.append(esc(url.group(0)))
        last = url.end()
    out.append(highlight_codes(text[last:]))
    return "".join(out)


def highlight_codes(text: str) -> str:
    out, last = [], 0
    for match in ONE_TIME_CODE.finditer(text):
        out.append(esc(text[last:match.start()]))
        out.append(f'<strong class="otp">{esc(match.group(1))}</strong>')
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def render_item(item: dict) -> str:
    when = item["sent_at"]
    shown = when.replace("T", " ")[:19] + " UTC" if "T" in when else when
    to = ", ".join(item["to"]) or "(no recipient)"
    meta = (
        f'<div class="meta"><span class="badge">{esc(item["channel"])}</span>'
        f'<span class="to">To: {esc(to)}</span>'
        f'<time datetime="{esc(when)}">{esc(shown)}</time></div>'
    )
    if item["channel"] == "sms":
        return (
            f'<article class="sms" data-channel="sms">{meta}'
            f'<p class="text">{render_sms_text(item["body"])}</p>'
            f'{render_links(magic_links(item["body"]))}</article>'
        )
    rows = [("From", item["from"])]
    rows += [("Cc", ", ".join(item["cc"]))] if item.get("cc") else []
    rows += [("Bcc", ", ".join(item["bcc"]))] if item.get("bcc") else []
    details = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    subject = item.get("subject")
    body = item["body"]
    # An empty sandbox: no scripts, forms, popups or navigation; the CSP above blocks loads.
    frame = (
        f'<iframe sandbox="" referrerpolicy="no-referrer" title="email body" '
        f'srcdoc="{esc(body)}"></iframe>'
    )
    if item["channel"] == "raw email":
        frame = f'<pre class="text">{esc(body)}</pre>'
    return (
        f'<article class="email" data-channel="email">{meta}'
        f'<h2 class="subject">{esc(subject) if subject else "(no subject)"}</h2>'
        f"<dl>{details}</dl>{render_links(magic_links(body))}{frame}</article>"
    )


# Seconds between reloads of the metrics panel.
METRICS_REFRESH = 3
EMF_MARK = '"_aws"'


def read_metrics(log_path: str | None) -> list[dict]:
    """Every EMF document in the log, in order: a JSON object with an `_aws` member (anywhere in
    it: the functions' serializer orders keys). A line may carry a prefix (a watch's, a log
    framework's): the document starts at its first `{`."""
    if not log_path or not os.path.exists(log_path):
        return []
    decoder = json.JSONDecoder()
    found = []
    with open(log_path, errors="replace") as log:
        for line in log:
            start = line.find("{")
            if start < 0 or EMF_MARK not in line:
                continue
            try:
                document, _ = decoder.raw_decode(line[start:])
            except ValueError:
                continue
            if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
                continue
            directives = document["_aws"].get("CloudWatchMetrics") or []
            if directives:
                found.append(document)
    return found


def metric_totals(documents: list[dict]) -> list[dict]:
    """Per metric and the dimension values of its widest set (tenant aside): the count, sum and
    largest value, in the order first seen."""
    totals: dict[tuple, dict] = collections.OrderedDict()
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            sets = directive.get("Dimensions") or [[]]
            names = [n for n in max(sets, key=len) if n != "TenantId"]
            for metric in directive.get("Metrics", []):
                name = metric.get("Name")
                value = document.get(name)
                # A value, or a list of values (EMF's form for several samples: latencies).
                values = value if isinstance(value, list) else [value]
                values = [v for v in values if isinstance(v, (int, float))]
                if not values:
                    continue
                dims = tuple((n, str(document.get(n, ""))) for n in names)
                entry = totals.setdefault((name, dims), {
                    "metric": name, "dimensions": dims, "unit": metric.get("Unit", ""),
                    "count": 0, "sum": 0.0, "max": 0.0})
                entry["count"] += len(values)
                entry["sum"] += sum(values)
                entry["max"] = max(entry["max"], *values)
    return list(totals.values())


METRICS_STYLE = """
body { margin: 0; font: 13px/1.35 system-ui, "DejaVu Sans", sans-serif; color: #1d2430;
  background: #fff; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #e3e7ee; }
th { font-weight: 600; color: #5b6576; }
td.value { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
p { margin: 6px 8px; color: #5b6576; }
"""


def render_metrics(log_path: str | None) -> str:
    totals = metric_totals(read_metrics(log_path))
    rows = []
    for entry in totals:
        dims = ", ".join(f"{n}={v}" for n, v in entry["dimensions"])
        if entry["unit"] == "Milliseconds":
            value = f'{entry["count"]} × avg {entry["sum"] / entry["count"]:.1f} ms, max {entry["max"]:.1f} ms'
        else:
            value = f'{entry["sum"]:g}'
        rows.append(
            f'<tr class="metric" data-metric="{esc(entry["metric"])}" data-dimensions="{esc(dims)}">'
            f'<td>{esc(entry["metric"])}</td><td>{esc(dims)}</td><td class="value">{esc(value)}</td></tr>'
        )
    if rows:
        content = (
            "<table><thead><tr><th>metric</th><th>dimensions</th><th>total</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    elif log_path:
        content = f"<p>No metrics in {esc(log_path)} yet: call the API.</p>"
    else:
        content = "<p>No functions log given (FUNCTIONS_LOG): no metrics to show.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Metrics</title>
<meta http-equiv="refresh" content="{METRICS_REFRESH}">
<style>{METRICS_STYLE}</style></head>
<body>{content}<p>Updated {esc(time.strftime("%H:%M:%S"))}, every {METRICS_REFRESH} s.</p></body></html>
"""


def render_page(moto_url: str) -> tuple[int, str]:
    try:
        items = read_outbox(moto_url)
    except (OSError, ValueError, urllib.error.URLError) as e:
        status = 502
        content = (
            f'<div class="error"><h2>Cannot read the emulator</h2><p>GET '
            f'<code>{esc(moto_url)}/moto-api/sent.json</code> failed: {esc(e)}</p>'
            f"<p>Is moto running? Reload to try again.</p></div>"
        )
        summary = "emulator unreachable"
    else:
        status = 200
        emails = sum(1 for i in items if i["channel"] != "sms")
        texts = len(items) - emails
        summary = f"{emails} email{'s' * (emails != 1)}, {texts} SMS, newest first"
        content = "".join(render_item(i) for i in items) or (
            '<div class="empty"><h2>Nothing sent yet</h2><p>Start a passwordless login and send '
            "its code (POST /api/passwordless/start, then /send), then reload.</p></div>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head>
<body><header><h1>Outbox</h1>
<p>{esc(summary)} · read from {esc(moto_url)} at {esc(time.strftime("%H:%M:%S"))} · reload to
refresh</p></header>
<main><section class="metrics"><h2>Metrics (live, from the functions' EMF lines)</h2>
<iframe src="/metrics" title="metrics" referrerpolicy="no-referrer"></iframe></section>
{content}</main></body></html>
"""
    return status, page


def handler_for(moto_url: str, log_path: str | None = None):
    class Outbox(BaseHTTPRequestHandler):
        server_version = "outbox"

        def do_GET(self, head=False):
            path = urlsplit(self.path).path
            if path == "/metrics":
                status, page = 200, render_metrics(log_path)
            elif path == "/":
                status, page = render_page(moto_url)
            else:
                self.send_error(404)
                return
            body = page.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            # The page may frame its own metrics panel; nothing else may frame either.
            self.send_header("Content-Security-Policy", CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'"))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_HEAD(self):
            self.do_GET(head=True)

        def log_message(self, format, *args):  # quiet: make dev's terminal is the banner's
            pass

    return Outbox


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("OUTBOX_PORT", "9012"))
    default_moto = os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:5055"
    moto_url = (sys.argv[2] if len(sys.argv) > 2 else default_moto).rstrip("/")
    log_path = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("FUNCTIONS_LOG")
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(moto_url, log_path))
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
