"""The magic link's landing page in a real browser (Debian's headless Chromium, driven over the
DevTools protocol on a pipe: Python's standard library only), against the served functions: a
person opens the link from the outbox, presses the button, lands on the application's redirect URI
with an authorization code, and the application exchanges it with FusionAuth's Python client
(`exchange_o_auth_code_for_access_token_using_pkce`). Link scanners' pre-fetches before the click
change nothing; nothing but the page's own post uses the code."""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

from test_outbox import CHROMIUM, CHROMIUM_FLAGS, outbox_url, require_chromium  # noqa: F401

WEB_APP = "10000000-0000-0002-0000-000000000001"
REDIRECT = "https://piedpiper.com/oauth/callback"
SAFE_LINKS = "Mozilla/4.0 (compatible; ms-office; MSOffice 16) SafeLinks"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """Headless Chromium with `--remote-debugging-pipe`: commands go in on fd 3, answers and
    events come out on fd 4, each a JSON message ended by a NUL byte."""

    def __init__(self, profile):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        self.page("Page.enable")
        self.page("Network.enable")

    def _read(self, deadline):
        while b"\0" not in self._buffer:
            assert time.monotonic() < deadline, "the browser did not answer in time"
            chunk = os.read(self._from_browser, 65536)
            assert chunk, "the browser closed its pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                assert "error" not in answer, answer
                return answer.get("result", {})
            self.events.append(answer)

    def page(self, method, params=None):
        return self.call(method, params, session=self.session)

    def wait_for(self, method, timeout=30):
        """The first event `method` (seen already or to come), removed from the queue."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event["params"]
            self.events.append(self._read(deadline))

    def goto(self, url):
        """Navigates and waits until that very page has loaded (an earlier page's load event may
        still be on its way)."""
        self.page("Page.navigate", {"url": url})
        deadline = time.monotonic() + 30
        while True:
            state = self.evaluate("[document.readyState, location.href]")
            if state and state[0] == "complete" and state[1].split("?")[0] == url.split("?")[0]:
                self.events.clear()
                return
            assert time.monotonic() < deadline, f"{url} did not load: {state}"
            time.sleep(0.05)

    def evaluate(self, expression):
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - closing is best effort; the process is killed below
            pass
        self.process.kill()
        self.process.wait(timeout=10)
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture()
def browser(tmp_path):
    require_chromium()
    profile = tmp_path / f"profile-{uuid.uuid4().hex}"
    profile.mkdir()
    opened = Browser(profile)
    yield opened
    opened.close()


def start_and_send(client, state):
    started = client.start_passwordless_login(
        {"applicationId": WEB_APP, "loginId": "richard@piedpiper.com", "state": state})
    assert started.status == 200, started.error_response
    code = started.success_response["code"]
    assert client.send_passwordless_code({"code": code}).status == 200
    return code


def pkce():
    verifier = b64url(os.urandom(32))
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def verify_hs256(jwt, kickstart, audience, secret=None):
    """Checks the signature with the tenant's key (or `secret`), as an application would;
    returns the claims."""
    header, payload, signature = jwt.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==="))["alg"] == "HS256"
    secret = secret or base64.b64decode(kickstart["keys"][0]["secret"])
    expected = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(b64url(expected), signature), "the signature does not verify"
    claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
    assert claims["aud"] == audience and claims["iss"] == "piedpiper.com"
    assert claims["exp"] > time.time()
    return claims


def verify_id_token(jwt, kickstart, audience):
    """An HS256 id token verifies with the client secret's UTF-8 bytes (OIDC Core 10.1), which
    the relying party holds, and not with the tenant's key, which it does not."""
    application = next(a for a in kickstart["applications"] if a["id"] == audience)
    secret = application["oauthConfiguration"]["clientSecret"].encode()
    return verify_hs256(jwt, kickstart, audience, secret)


def link_from_outbox(browser, outbox, code):
    """The magic link of the email with `code`, as the outbox shows it."""
    browser.goto(outbox)
    links = browser.evaluate("[...document.querySelectorAll('article a')].map(a => a.href)")
    return next(h for h in links if f"/oauth2/passwordless/{code}" in h)


def on_service(base_url, link):
    """The link's path and query on the served functions (the email names the app's baseURL)."""
    parts = urllib.parse.urlsplit(link)
    return f"{base_url}{parts.path}?{parts.query}"


def press_and_catch_redirect(browser, press):
    """Runs `press` (a script that submits the page's form) and answers the browser's request for
    the redirect, which leaves the service, here: the query the application would receive."""
    browser.page("Fetch.enable", {"patterns": [{"urlPattern": f"{REDIRECT}*"}]})
    browser.evaluate(press)
    paused = browser.wait_for("Fetch.requestPaused")
    browser.page("Fetch.fulfillRequest", {"requestId": paused["requestId"], "responseCode": 200,
                                          "body": b64url(b"signed in")})
    browser.page("Fetch.disable")
    landed = urllib.parse.urlsplit(paused["request"]["url"])
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == REDIRECT
    return dict(urllib.parse.parse_qsl(landed.query))


def test_a_person_opens_the_link_from_the_outbox_clicks_and_the_app_exchanges_the_code_for_tokens(
    client, base_url, kickstart, outbox_url, browser  # noqa: F811
):
    verifier, challenge = pkce()
    state = {"redirect_uri": REDIRECT, "state": "after=/settings", "scope": "openid offline_access",
             "code_challenge": challenge, "code_challenge_method": "S256", "nonce": "n-0S6"}
    code = start_and_send(client, state)
    link = on_service(base_url, link_from_outbox(browser, outbox_url, code))

    # Three pre-fetches and a HEAD, as link scanners make them on delivery.
    assert requests.head(link, headers={"User-Agent": SAFE_LINKS}, timeout=10).status_code == 200
    for _ in range(3):
        scanned = requests.get(link, headers={"User-Agent": SAFE_LINKS}, timeout=10)
        assert scanned.status_code == 200 and "Continue to Pied Piper web" in scanned.text

    browser.goto(link)
    assert browser.evaluate("document.querySelector('h1').textContent") == "Sign in to Pied Piper web"
    button = browser.evaluate("document.querySelector('form button').textContent")
    assert button == "Continue to Pied Piper web"
    assert browser.evaluate("document.scripts.length") == 0

    query = press_and_catch_redirect(browser, "document.querySelector('form button').click()")
    assert query["state"] == "after=/settings"
    assert len(query["code"]) == 43 and query["code"] != code

    exchanged = client.exchange_o_auth_code_for_access_token_using_pkce(
        query["code"], REDIRECT, verifier, WEB_APP)
    assert exchanged.status == 200, exchanged.error_response
    tokens = exchanged.success_response
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 3000
    access = verify_hs256(tokens["access_token"], kickstart, WEB_APP)
    identity = verify_id_token(tokens["id_token"], kickstart, WEB_APP)
    assert access["sub"] == identity["sub"] == tokens["userId"]
    assert identity["nonce"] == "n-0S6" and identity["email"] == "richard@piedpiper.com"
    assert tokens["refresh_token"]

    # The refresh token works at the token endpoint as the client library uses it; the grant
    # was for openid, so the refresh answers a new id_token and the scope.
    refreshed = client.exchange_refresh_token_for_access_token(tokens["refresh_token"], WEB_APP)
    assert refreshed.status == 200, refreshed.error_response
    verify_hs256(refreshed.success_response["access_token"], kickstart, WEB_APP)
    refreshed_identity = verify_id_token(refreshed.success_response["id_token"], kickstart, WEB_APP)
    assert refreshed_identity["sub"] == tokens["userId"]
    assert refreshed.success_response["scope"] == tokens["scope"]

    # The same code again, and the link again: nothing more to get, and the refresh token the
    # code's exchange issued is revoked (RFC 6749 4.1.2).
    again = client.exchange_o_auth_code_for_access_token_using_pkce(
        query["code"], REDIRECT, verifier, WEB_APP)
    assert again.status == 400 and again.error_response["error"] == "invalid_grant"
    assert again.error_response["error_reason"] == "auth_code_not_found"
    revoked = client.exchange_refresh_token_for_access_token(tokens["refresh_token"], WEB_APP)
    assert revoked.status == 400, revoked.success_response
    assert revoked.error_response["error_reason"] == "refresh_token_not_found"
    browser.goto(link)
    assert browser.evaluate("document.querySelector('h1').textContent") == "This link has expired"

    # The operator's view: the pre-fetches are counted apart from the person's open.
    log = open(os.environ["FUNCTIONS_LOG"], encoding="utf-8", errors="replace").read()
    assert len(re.findall(r"prefetch_suspected=true", log)) >= 4
    assert re.search(r"prefetch_suspected=false", log)


def test_a_wrong_verifier_an_unregistered_redirect_and_a_forged_post_get_no_token(
    client, base_url, browser
):
    verifier, challenge = pkce()
    state = {"redirect_uri": REDIRECT, "code_challenge": challenge, "code_challenge_method": "S256"}
    code = start_and_send(client, state)
    link = f"{base_url}/oauth2/passwordless/{code}"

    # A post without the page's CSRF cookie (another site's form) uses nothing.
    forged = requests.post(link, data={"csrf": "guess"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 403 and "location" not in forged.headers
    assert "access_token" not in forged.text

    browser.goto(link)
    issued = press_and_catch_redirect(browser, "document.querySelector('form button').click()")
    wrong = client.exchange_o_auth_code_for_access_token_using_pkce(
        issued["code"], REDIRECT, pkce()[0], WEB_APP)
    assert wrong.status == 400 and wrong.error_response["error"] == "invalid_grant"
    assert "access_token" not in json.dumps(wrong.error_response)

    # A start whose redirect_uri the application did not register: an error page, no redirect.
    hostile = start_and_send(client, {"redirect_uri": "https://evil.example/callback"})
    browser.goto(f"{base_url}/oauth2/passwordless/{hostile}")
    assert browser.evaluate("document.querySelector('h1').textContent") == \
        "This link cannot be used here"
    assert browser.evaluate("document.forms.length") == 0

    # A link nobody started, in the browser's language.
    browser.page("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": "de-DE,de;q=0.9"}})
    browser.goto(f"{base_url}/oauth2/passwordless/{'A' * 43}")
    assert browser.evaluate("document.querySelector('h1').textContent") == \
        "Dieser Link ist abgelaufen"


def test_a_person_whose_link_got_mangled_signs_in_with_the_code_the_email_carries_beside_it(
    client, base_url, kickstart, outbox_url, browser  # noqa: F811
):
    verifier, challenge = pkce()
    state = {"redirect_uri": REDIRECT, "state": "mangled", "scope": "openid",
             "code_challenge": challenge, "code_challenge_method": "S256"}
    code = start_and_send(client, state)

    # The email as the outbox shows it: the link, and beside it the fallback page and code.
    browser.goto(outbox_url)
    bodies = browser.evaluate(
        "[...document.querySelectorAll('article.email iframe')].map(f => f.srcdoc)")
    email = next(body for body in bodies if code in body)
    fallback_code = re.search(r"this code: <strong>(\w+)</strong>", email).group(1)
    fallback_link = re.search(r'Link not working\? Go to <a href="([^"]+)"', email).group(1)
    assert fallback_link == f"https://piedpiper.com/oauth2/passwordless?client_id={WEB_APP}"

    # The link arrives cut short (a wrapped line): the expired page, and the code stays valid.
    browser.goto(f"{base_url}/oauth2/passwordless/{code[:30]}")
    assert browser.evaluate("document.querySelector('h1').textContent") == "This link has expired"

    browser.goto(on_service(base_url, fallback_link))
    assert browser.evaluate("document.querySelector('h1').textContent") == \
        "Sign in to Pied Piper web with a code"
    assert browser.evaluate("document.scripts.length") == 0

    def submit(login_id, one_time_code):
        return (f"document.querySelector('#loginId').value = {json.dumps(login_id)};"
                f"document.querySelector('#oneTimeCode').value = {json.dumps(one_time_code)};"
                "document.querySelector('form button').click()")

    # A typo first: the form again, with the problem, and nothing used.
    wrong = "000000" if fallback_code != "000000" else "111111"
    browser.events.clear()
    browser.evaluate(submit("richard@piedpiper.com", wrong))
    browser.wait_for("Page.loadEventFired")
    assert "do not match" in browser.evaluate("document.querySelector('[role=alert]').textContent")

    query = press_and_catch_redirect(browser, submit("richard@piedpiper.com", fallback_code))
    assert query["state"] == "mangled"

    exchanged = client.exchange_o_auth_code_for_access_token_using_pkce(
        query["code"], REDIRECT, verifier, WEB_APP)
    assert exchanged.status == 200, exchanged.error_response
    tokens = exchanged.success_response
    identity = verify_id_token(tokens["id_token"], kickstart, WEB_APP)
    assert identity["email"] == "richard@piedpiper.com"
    assert verify_hs256(tokens["access_token"], kickstart, WEB_APP)["sub"] == tokens["userId"]

    # The fallback used the link's code up: the whole link no longer works either.
    browser.goto(f"{base_url}/oauth2/passwordless/{code}")
    assert browser.evaluate("document.querySelector('h1').textContent") == "This link has expired"
