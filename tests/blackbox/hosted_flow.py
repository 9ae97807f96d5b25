"""The person's side of the hosted login, for the relying-party tests (test_oidc_*.py): a browser
made of `requests` that walks the pages of /oauth2/authorize by the names CONTRACT's page list
gives them, and the mailbox (moto's record of what SES sent). The relying party's side is always
the library under test; nothing here builds an OAuth request or checks a token."""

from __future__ import annotations

import contextlib
import html
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.parse
from html.parser import HTMLParser

import requests

TIMEOUT = 15
EXAMPLE_APP = pathlib.Path(__file__).resolve().parents[2] / "examples" / "oidc-web-app" / "app.py"


@contextlib.contextmanager
def running_example_app(issuer: str, client_id: str, client_secret: str, port: int):
    """The example app (examples/oidc-web-app) as the relying party of `client_id`, served on
    `port` until the block ends; yields its origin once it answers."""
    origin = f"http://127.0.0.1:{port}"
    app = subprocess.Popen([sys.executable, str(EXAMPLE_APP), "--issuer", issuer,
                            "--client-id", client_id, "--client-secret", client_secret,
                            "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            assert app.poll() is None, "the example app exited at start"
            try:
                requests.get(origin + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield origin
    finally:
        app.terminate()
        app.wait(timeout=10)


class Page(HTMLParser):
    """What the tests read off a hosted page: its forms (action, method, fields, buttons), the
    match code the waiting page shows, its meta refresh, headings and alerts, and its scripts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.match_codes: list[str] = []
        self.refresh: str | None = None
        self.scripts = 0
        self.h1 = ""
        self.alerts = ""
        self._in: list[tuple[str, str]] = []
        self.feed(text)
        self.text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-match-code" in attrs:
            self.match_codes.append(attrs["data-match-code"] or "")
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": (attrs.get("method") or "get").lower(),
                               "inputs": [], "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(attrs)
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(attrs)
        elif tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.refresh = attrs.get("content")
        elif tag == "script":
            self.scripts += 1
        if tag == "h1":
            self._in.append(("h1", tag))
        elif attrs.get("role") == "alert":
            self._in.append(("alert", tag))

    def handle_endtag(self, tag):
        if self._in and self._in[-1][1] == tag:
            self._in.pop()

    def handle_data(self, data):
        kinds = {kind for kind, _ in self._in}
        if "h1" in kinds:
            self.h1 += data
        if "alert" in kinds:
            self.alerts += data

    def form(self, action: str) -> dict:
        """The one post form whose action is `action` (a path)."""
        found = [f for f in self.forms if f["method"] == "post"
                 and urllib.parse.urlsplit(f["action"] or "").path == action]
        assert len(found) == 1, f"expected one <form method=post action={action}>, got {self.forms}"
        return found[0]

    def form_with_field(self, name: str) -> dict:
        found = [f for f in self.forms if f["method"] == "post"
                 and any(i.get("name") == name for i in f["inputs"] + f["buttons"])]
        assert found, f"no post form with a field or button named {name}: {self.forms}"
        return found[0]


def field(form: dict, name: str) -> dict:
    found = [i for i in form["inputs"] if i.get("name") == name]
    assert len(found) == 1, f"expected one <input name={name}> in {form}"
    return found[0]


def hidden_fields(form: dict) -> dict:
    return {i["name"]: i.get("value") or "" for i in form["inputs"]
            if i.get("name") and (i.get("type") or "text").lower() == "hidden"}


def assert_hosted_page(response: requests.Response) -> Page:
    """A hosted HTML page with the headers every one of them sends (CONTRACT, page 8)."""
    headers = response.headers
    assert headers.get("Content-Type", "").startswith("text/html"), headers
    assert "no-store" in headers.get("Cache-Control", ""), headers
    assert headers.get("Referrer-Policy") == "no-referrer", headers
    assert headers.get("X-Frame-Options") == "DENY", headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp
    page = Page(response.text)
    assert page.scripts == 0, "a hosted page needs no script"
    return page


class Browser(requests.Session):
    """A browser's cookie rules on loopback: like Chromium, it treats http://127.0.0.1 as a secure
    context, so the service's `Secure` cookies come back to it over plain HTTP (Python's cookie
    jar keeps them for https only, and requests merges a session's cookies into a jar of its own
    policy per request: the flag is dropped on the loopback host's cookies as they arrive).
    Redirects are followed by hand, to see each one."""

    def get(self, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return super().get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return super().post(url, data=data, **kwargs)

    def request(self, method, url, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", TIMEOUT)
        response = super().request(method, url, **kwargs)
        for cookie in self.cookies:
            if cookie.domain in ("127.0.0.1", "localhost"):
                cookie.secure = False
        return response


def location(response: requests.Response) -> str:
    assert "Location" in response.headers, (response.status_code, response.text[:500])
    return urllib.parse.urljoin(response.url, response.headers["Location"])


def emails_to(address: str) -> list[dict]:
    recorded = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    return [m for m in recorded.get("ses", {}).get("Message", [])
            if address in (m.get("destinations") or {}).get("ToAddresses", [])]


def wait_for_email(address: str, seen: int, timeout: float = 15) -> dict:
    """The first email to `address` after the `seen` ones already there."""
    deadline = time.monotonic() + timeout
    while True:
        mails = emails_to(address)
        if len(mails) > seen:
            return mails[seen]
        assert time.monotonic() < deadline, f"no email to {address} within {timeout}s"
        time.sleep(0.2)


def magic_link(email: dict) -> str:
    body = html.unescape(email["body"])
    found = re.search(r'href="(https?://[^"]+/oauth2/passwordless/[A-Za-z0-9_-]+[^"]*)"', body)
    assert found, f"no magic link in the email: {body[:1000]}"
    return found.group(1)


def one_time_code(email: dict) -> str:
    body = html.unescape(email["body"])
    found = (re.search(r"this code: (?:<strong>)?\s*([A-Za-z0-9]+)\s*<", body)
             or re.search(r"<strong>\s*(\d{4,10})\s*</strong>", body))
    assert found, f"no one-time code in the email: {body[:1000]}"
    return found.group(1)


class Hosted:
    """One person in one browser, signing in on the hosted pages."""

    def __init__(self, login_id: str) -> None:
        self.login_id = login_id
        self.browser = Browser()
        self.waiting_url: str | None = None
        self.email: dict | None = None

    def open_authorize(self, url: str) -> requests.Response:
        return self.browser.get(url)

    def submit_login_id(self, authorize_url: str) -> Page:
        """GET the authorization URL (the login id page), post the login id: 303 to the waiting
        page, which shows the match code and the one-time code form; the email arrives."""
        opened = self.open_authorize(authorize_url)
        assert opened.status_code == 200, (opened.status_code, opened.headers, opened.text[:500])
        page = assert_hosted_page(opened)
        form = page.form("/oauth2/authorize")
        login_field = field(form, "loginId")
        assert login_field.get("autocomplete") == "username", login_field
        fields = hidden_fields(form)
        assert len(fields) >= 2, f"the OAuth parameters and a CSRF field travel hidden: {form}"
        fields["loginId"] = self.login_id
        seen = len(emails_to(self.login_id))
        posted = self.browser.post(urllib.parse.urljoin(opened.url, form["action"]), data=fields)
        assert posted.status_code == 303, (posted.status_code, posted.text[:500])
        self.waiting_url = location(posted)
        assert urllib.parse.urlsplit(self.waiting_url).path == "/oauth2/authorize/wait"
        self.email = wait_for_email(self.login_id, seen)
        return self.waiting_page()

    def waiting_page(self) -> Page:
        waiting = self.browser.get(self.waiting_url)
        assert waiting.status_code == 200, (waiting.status_code, waiting.headers, waiting.text[:500])
        page = assert_hosted_page(waiting)
        assert page.refresh is not None and int(page.refresh.split(";")[0]) <= 3, page.refresh
        assert len(page.match_codes) == 1 and re.fullmatch(r"\d\d", page.match_codes[0]), \
            page.match_codes
        assert page.match_codes[0] in page.text, "the match code is shown as text too"
        code_field = field(page.form("/oauth2/authorize/wait"), "oneTimeCode")
        assert code_field.get("autocomplete") == "one-time-code", code_field
        assert code_field.get("inputmode") == "numeric", code_field
        return page

    def refresh_waiting_page(self) -> requests.Response:
        """What the waiting page's meta refresh fetches."""
        return self.browser.get(self.waiting_url)

    def type_code(self, code: str) -> requests.Response:
        page = Page(self.browser.get(self.waiting_url).text)
        form = page.form("/oauth2/authorize/wait")
        fields = hidden_fields(form)
        fields["oneTimeCode"] = code
        return self.browser.post(urllib.parse.urljoin(self.waiting_url, form["action"]), data=fields)

    def sign_in_with_typed_code(self, authorize_url: str) -> str:
        """The whole walk: the redirect back to the relying party (its URL, with the code)."""
        self.submit_login_id(authorize_url)
        typed = self.type_code(one_time_code(self.email))
        assert typed.status_code == 303, (typed.status_code, typed.text[:500])
        return location(typed)


def query_of(url: str) -> dict:
    pairs = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)), f"a parameter twice in {url}"
    return dict(pairs)


def without_query(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
