"""The hosted pages in a real browser (Debian's headless Chromium over the DevTools pipe, the
driver of test_landing.py), behind the example app (examples/oidc-web-app: authlib and
http.server, started here on EXAMPLE_PORT, whose redirect URLs the test kickstart registers):

- a person signs in to the example app with the one-time code from the email typed on the
  waiting page, and the app shows their claims;
- the magic link opened in the same browser completes the sign-in there;
- the link opened in a second browser (a separate browser context: no cookies shared) asks for the
  two-digit match code the waiting page shows, refuses a wrong one, and with the right one signs
  in the first browser (its waiting page continues by itself), never the second;
- prompt=none answers at once while the SSO session lasts, and login_required after sign-out."""

from __future__ import annotations

import os
import time
import urllib.parse
import uuid

import pytest

from hosted_flow import (emails_to, magic_link, one_time_code, running_example_app,
                         wait_for_email)
from test_landing import Browser
from test_outbox import CHROMIUM

@pytest.fixture(scope="module")
def example_app(oidc):
    with running_example_app(oidc["issuer"], oidc["client_id"], oidc["client_secret"],
                             oidc["example_port"]) as origin:
        yield origin


@pytest.fixture()
def chromium(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: the hosted pages must be tried in a browser "
                    "(`apt-get install chromium`; .ci/run installs it)")
    profile = tmp_path / f"profile-{uuid.uuid4().hex}"
    profile.mkdir()
    opened = Browser(profile)
    yield opened
    opened.close()


class Tab:
    """One page of the browser (of its default context, or of another one)."""

    def __init__(self, browser: Browser, session: str, context: str | None = None) -> None:
        self.browser = browser
        self.session = session
        self.context = context

    @classmethod
    def in_new_context(cls, browser: Browser) -> "Tab":
        """A tab in a browser context of its own: no cookies shared, as another browser."""
        context = browser.call("Target.createBrowserContext")["browserContextId"]
        target = browser.call("Target.createTarget", {"url": "about:blank",
                                                      "browserContextId": context})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        browser.call("Page.enable", session=session)
        return cls(browser, session, context)

    def cookies(self) -> list[dict]:
        params = {"browserContextId": self.context} if self.context else {}
        return self.browser.call("Storage.getCookies", params)["cookies"]

    def evaluate(self, expression: str):
        result = self.browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   session=self.session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.browser.call("Page.navigate", {"url": url}, session=self.session)

    def location(self) -> str | None:
        """The loaded page's URL, or None while a page is loading."""
        try:
            state = self.evaluate("[document.readyState, location.href, window.__seen === true]")
        except AssertionError:  # the page went away mid-question: a navigation
            return None
        return state[1] if state and state[0] == "complete" and not state[2] else None

    def wait_for(self, origin: str, path: str, timeout: float = 30, ready: str = "true",
                 prefix: bool = False) -> str:
        """Waits until a new page at `origin` + `path` has loaded (and `ready` holds on it);
        returns its URL. The page before is marked, so that it never counts as the new one."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            href = self.location()
            if href:
                seen = href
                assert self.evaluate("(document.querySelector('h1') || {}).textContent") != \
                    "Sign-in failed", f"the example app could not sign in: {self.text()[:600]}"
                parts = urllib.parse.urlsplit(href)
                if (f"{parts.scheme}://{parts.netloc}" == origin
                        and (parts.path.startswith(path) if prefix else parts.path == path)
                        and self.evaluate(ready)):
                    self.evaluate("window.__seen = true")
                    return href
            time.sleep(0.1)
        raise AssertionError(f"{origin}{path} did not load within {timeout}s; the page is {seen}: "
                             f"{self.text()[:600] if seen else ''}")

    def text(self) -> str:
        try:
            return self.evaluate("document.body ? document.body.innerText : ''") or ""
        except AssertionError:
            return ""

    def submit(self, form_selector: str, values: dict[str, str]) -> None:
        """Fills the form's fields as a person types, and presses its submit button."""
        script = [f"const form = document.querySelector({form_selector!r});"]
        for name, value in values.items():
            script.append(f"form.querySelector('[name={name}]').value = {value!r};")
        script.append("const button = form.querySelector("
                      "'button[type=submit], button:not([type]), input[type=submit]');")
        script.append("if (button) { button.click(); } else { form.requestSubmit(); }")
        self.evaluate("{" + "\n".join(script) + "}")


def service_origin(oidc) -> str:
    parts = urllib.parse.urlsplit(oidc["issuer"])
    return f"{parts.scheme}://{parts.netloc}"


def start_sign_in(tab: Tab, example_app: str, oidc: dict, login_id: str) -> tuple[str, int]:
    """From the example app's front page to the waiting page: the match code it shows, and how
    many emails the person had before."""
    service = service_origin(oidc)
    tab.navigate(example_app + "/")
    tab.wait_for(example_app, "/")
    assert tab.evaluate("document.querySelector('#sign-in').textContent") == "Sign in"
    tab.evaluate("document.querySelector('#sign-in').click()")
    tab.wait_for(service, "/oauth2/authorize")
    assert tab.evaluate("document.scripts.length") == 0
    assert tab.evaluate("document.querySelector('input[name=loginId]').autocomplete") == "username"
    seen = len(emails_to(login_id))
    tab.submit("form[action='/oauth2/authorize']", {"loginId": login_id})
    tab.wait_for(service, "/oauth2/authorize/wait")
    assert tab.evaluate("document.scripts.length") == 0
    match_code = tab.evaluate("document.querySelector('[data-match-code]').dataset.matchCode")
    assert match_code and len(match_code) == 2 and match_code.isdigit(), match_code
    assert match_code in tab.text()
    assert tab.evaluate("document.querySelector('input[name=oneTimeCode]').autocomplete") == "one-time-code"
    return match_code, seen


def assert_signed_in(tab: Tab, example_app: str, oidc: dict, login_id: str, timeout: float = 30) -> dict:
    """The example app's signed-in page: the person's email, and the claims authlib verified."""
    tab.wait_for(example_app, "/", timeout, ready="document.querySelector('#email') !== null")
    assert tab.evaluate("document.querySelector('#email').textContent") == login_id, tab.text()[:800]
    claims = tab.evaluate("Object.fromEntries([...document.querySelectorAll('#id tr')].map("
                          "r => [r.querySelector('th').textContent, r.querySelector('td').textContent]))")
    assert claims["iss"] == oidc["issuer"] and claims["aud"] == oidc["client_id"]
    assert claims["sub"] == oidc["users"][login_id]["id"]
    userinfo = tab.evaluate("[...document.querySelectorAll('#userinfo th')].map(t => t.textContent)")
    assert "sub" in userinfo and "email" in userinfo
    return claims


def test_a_person_signs_in_to_the_example_app_by_typing_the_code_from_the_email(
        chromium, example_app, oidc):
    login_id = "denpok@hooli.xyz"
    service = service_origin(oidc)
    tab = Tab(chromium, chromium.session)
    _, seen = start_sign_in(tab, example_app, oidc, login_id)
    code = one_time_code(wait_for_email(login_id, seen))

    # A typo first: the waiting page again, still asking for the code, and no sign-in.
    wrong = "000000" if code != "000000" else "111111"
    tab.submit("form[action='/oauth2/authorize/wait']", {"oneTimeCode": wrong})
    tab.wait_for(service, "/oauth2/authorize/wait",
                 ready="document.querySelector('input[name=oneTimeCode]') !== null")

    tab.submit("form[action='/oauth2/authorize/wait']", {"oneTimeCode": code})
    claims = assert_signed_in(tab, example_app, oidc, login_id)
    assert claims["email"] == login_id

    # While the SSO session lasts, prompt=none answers at once: signed in again with no page
    # shown and no email sent, by the same authentication.
    before = len(emails_to(login_id))
    tab.navigate(example_app + "/login?prompt=none")
    again = assert_signed_in(tab, example_app, oidc, login_id)
    assert again["auth_time"] == claims["auth_time"] and again["sid"] == claims["sid"]
    assert len(emails_to(login_id)) == before

    # Sign out (the provider's end_session_endpoint), then prompt=none gets login_required.
    tab.evaluate("document.querySelector('#sign-out').click()")
    tab.wait_for(example_app, "/signed-out")
    tab.navigate(example_app + "/login?prompt=none")
    tab.wait_for(example_app, "/callback", ready="document.querySelector('h1') !== null")
    assert tab.evaluate("document.querySelector('#error') && document.querySelector('#error').textContent") \
        == "login_required", tab.text()[:600]


def test_the_magic_link_opened_in_the_same_browser_completes_the_sign_in_there(
        chromium, example_app, oidc):
    login_id = "gavin@hooli.xyz"
    service = service_origin(oidc)
    tab = Tab(chromium, chromium.session)
    _, seen = start_sign_in(tab, example_app, oidc, login_id)
    link = magic_link(wait_for_email(login_id, seen))
    assert link.startswith(service + "/oauth2/passwordless/"), \
        f"the mailed link names the port the service is served on: {link}"

    tab.navigate(link)
    tab.wait_for(service, "/oauth2/passwordless/", prefix=True)
    assert tab.evaluate("document.scripts.length") == 0
    assert tab.evaluate("document.querySelector('form[method=post] button') !== null"), tab.text()
    tab.evaluate("document.querySelector('form[method=post] button').click()")
    assert_signed_in(tab, example_app, oidc, login_id)


def test_a_link_opened_in_another_browser_asks_for_the_match_code_and_signs_in_the_first_one(
        chromium, example_app, oidc):
    login_id = "hoover@hooli.xyz"
    service = service_origin(oidc)
    first = Tab(chromium, chromium.session)
    match_code, seen = start_sign_in(first, example_app, oidc, login_id)
    link = magic_link(wait_for_email(login_id, seen))

    other = Tab.in_new_context(chromium)
    other.navigate(link)
    asks = ("document.querySelector('input[name=matchCode]:not([type=hidden])') !== null"
            " || document.querySelector('button[name=matchCode]') !== null")
    other.wait_for(service, "/oauth2/passwordless/", prefix=True, ready=asks)
    assert other.evaluate("document.scripts.length") == 0
    typed = other.evaluate("document.querySelector('input[name=matchCode]:not([type=hidden])') !== null")

    def answer(code: str) -> None:
        if typed:
            other.submit("form:has(input[name=matchCode])", {"matchCode": code})
        else:
            other.evaluate(f"document.querySelector('button[name=matchCode][value=\"{code}\"]').click()")

    # A wrong code approves nothing: the approval page again, and the first browser still waits.
    if typed:
        wrong = f"{(int(match_code) + 1) % 100:02d}"
    else:
        offered = other.evaluate("[...document.querySelectorAll('button[name=matchCode]')].map(b => b.value)")
        assert match_code in offered, offered
        wrong = next(v for v in offered if v != match_code)
    answer(wrong)
    other.wait_for(service, "/oauth2/passwordless/", prefix=True, ready=asks)
    assert "signed in on your other device" not in other.text().lower()
    first.navigate(first.evaluate("location.href"))
    first.wait_for(service, "/oauth2/authorize/wait")

    # The right one: the second browser is told so, and gets no code, token or redirect to the app.
    answer(match_code)
    done = "document.body.innerText.toLowerCase().includes('signed in on your other device')"
    href = other.wait_for(service, "/oauth2/passwordless/", prefix=True, ready=done, timeout=15)
    assert "code=" not in urllib.parse.urlsplit(href).query
    page = other.evaluate("document.documentElement.outerHTML")
    assert "access_token" not in page and "id_token" not in page and example_app not in page
    assert not any(c["name"] == "example_app_session" for c in other.cookies())

    # The first browser's waiting page refreshes itself (meta refresh, 3 s at most) and continues
    # to the example app, signed in.
    assert_signed_in(first, example_app, oidc, login_id, timeout=20)
