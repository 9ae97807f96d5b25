"""Hostile parameters and form bodies on every page and endpoint of the provider, from the
outside: whatever is sent, never a 5xx, never a redirect to a URI the application did not
register, never a code or a token to a browser that did not start the login."""

from __future__ import annotations

import re
import urllib.parse

import pytest
import requests

from hosted_flow import (
    Browser,
    Hosted,
    Page,
    assert_hosted_page,
    emails_to,
    field,
    hidden_fields,
    location,
    magic_link,
    one_time_code,
    query_of,
    without_query,
)

REDIRECT = "https://authlib.rp.test/callback"
EVIL = "https://evil.example/callback"
TOKENISH = re.compile(r"access_token|id_token|refresh_token|[?&]code=")
# Control characters and a replacement character, but UTF-8: `cargo lambda watch` itself cannot
# carry a body that is not (API Gateway would base64 it), as scripts/schemathesis_hooks.py notes.
JUNK = "\x00\x01\x7f\ufffd\u202e".encode()


def check(response: requests.Response, registered: list[str]) -> None:
    """What holds for any answer to anything: no 5xx, a redirect only to a registered URI, and a
    body with no token."""
    assert response.status_code < 500, (response.status_code, response.request.url, response.text[:300])
    if "Location" in response.headers:
        target = location(response)
        base = urllib.parse.urlsplit(response.request.url)
        own = f"{base.scheme}://{base.netloc}/"
        assert without_query(target) in registered or target.startswith(own), \
            f"redirected to {target} for {response.request.method} {response.request.url}"
        assert without_query(target) not in registered or "code" not in query_of(target), \
            f"a code without a login: {target}"
    assert not TOKENISH.search(response.text if "json" not in response.headers.get("Content-Type", "")
                               else ""), response.text[:300]


def authorize_url(oidc, **params) -> str:
    base = oidc["issuer"].rsplit("/", 1)[0]
    return f"{base}/oauth2/authorize?" + urllib.parse.urlencode(params, doseq=True)


def valid(oidc, **overrides) -> dict:
    params = {"client_id": oidc["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
              "scope": "openid email", "state": "s-1", "nonce": "n-1",
              "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
              "code_challenge_method": "S256"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


BAD_CLIENTS_OR_REDIRECTS = [
    pytest.param({}, id="nothing"),
    pytest.param({"client_id": None}, id="no client_id"),
    pytest.param({"client_id": "00000000-0000-0000-0000-000000000000"}, id="unknown client_id"),
    pytest.param({"client_id": "not-a-uuid'\"<script>"}, id="garbage client_id"),
    pytest.param({"redirect_uri": None}, id="no redirect_uri"),
    pytest.param({"redirect_uri": EVIL}, id="unregistered redirect_uri"),
    pytest.param({"redirect_uri": REDIRECT + "/"}, id="trailing slash"),
    pytest.param({"redirect_uri": REDIRECT + ".evil.example"}, id="prefix match"),
    pytest.param({"redirect_uri": "https://authlib.rp.test@evil.example/callback"}, id="userinfo host"),
    pytest.param({"redirect_uri": REDIRECT.upper()}, id="other case"),
    pytest.param({"redirect_uri": REDIRECT + "?next=https://evil.example"}, id="added query"),
    pytest.param({"redirect_uri": [REDIRECT, EVIL]}, id="redirect_uri twice"),
    pytest.param({"redirect_uri": "javascript:alert(1)//"}, id="javascript URI"),
]


@pytest.mark.parametrize("overrides", BAD_CLIENTS_OR_REDIRECTS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_client_or_redirect_uri_gets_an_error_page_and_never_a_redirect(oidc, overrides, method):
    params = valid(oidc, **overrides) if overrides else {}
    if method == "GET":
        answer = Browser().get(authorize_url(oidc, **params))
    else:
        answer = Browser().post(authorize_url(oidc), data=params)
    # A post with no form at all may be refused for its missing media type (415).
    expected = (400, 415) if method == "POST" and not params else (400,)
    assert answer.status_code in expected, (answer.status_code, answer.text[:300])
    assert "Location" not in answer.headers
    assert answer.headers.get("Content-Type", "").startswith("text/html")
    assert "<script" not in answer.text and "evil.example" not in answer.text


REDIRECTED_ERRORS = [
    pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
    pytest.param({"response_type": None}, "invalid_request", id="no response_type"),
    pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="PKCE plain"),
    pytest.param({"code_challenge_method": None}, "invalid_request", id="PKCE without method"),
    pytest.param({"code_challenge": "short"}, "invalid_request", id="malformed challenge"),
    pytest.param({"code_challenge": None, "code_challenge_method": None}, "invalid_request",
                 id="no PKCE where required"),
    pytest.param({"prompt": "none login"}, "invalid_request", id="prompt none with login"),
    pytest.param({"response_mode": "fragment"}, "invalid_request", id="fragment mode"),
    pytest.param({"prompt": "none"}, "login_required", id="prompt none without session"),
    pytest.param({"state": ["a", "b"]}, "invalid_request", id="state twice"),
]


@pytest.mark.parametrize(("overrides", "error"), REDIRECTED_ERRORS)
def test_any_other_bad_request_is_redirected_back_with_the_error_the_state_and_iss(oidc, overrides, error):
    answer = Browser().get(authorize_url(oidc, **valid(oidc, **overrides)))
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])
    target = location(answer)
    assert without_query(target) == REDIRECT
    back = query_of(target)
    assert back["error"] == error, back
    assert back["iss"] == oidc["issuer"] and "code" not in back
    if overrides.get("state") is None or isinstance(overrides.get("state"), str):
        assert back.get("state") == "s-1", back


HOSTILE_VALUES = [
    "A" * 9000,
    "\x00\x01\x7f",
    "%ff%fe%00",
    "\U0001F600 \u202e \ufeff",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\r\nSet-Cookie: evil=1",
    "../../../../etc/passwd",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: repr(v[:12]))
@pytest.mark.parametrize("name", ["state", "nonce", "scope", "login_hint", "ui_locales", "prompt",
                                  "max_age", "response_mode", "code_challenge", "tenantId", "client_id"])
def test_hostile_values_in_any_authorize_parameter_never_fail_the_server_or_redirect_elsewhere(
        oidc, name, value):
    answer = Browser().get(authorize_url(oidc, **valid(oidc, **{name: value})))
    check(answer, oidc["redirect_uris"])
    assert "evil=1" not in str(answer.headers.get("Set-Cookie", ""))
    if answer.status_code == 200:
        assert "<script>alert(1)</script>" not in answer.text


@pytest.mark.parametrize("body", [
    b"", b"loginId=", b"loginId=%ff%fe", JUNK * 100, b'{"loginId": "gavin@hooli.xyz"}',
    b"loginId=gavin@hooli.xyz&loginId=bighead@hooli.xyz", b"loginId=" + b"a" * 20000,
    b"csrf=forged&loginId=gavin@hooli.xyz",
], ids=["empty", "blank", "bad utf-8", "binary", "json", "twice", "huge", "forged csrf"])
def test_hostile_login_id_posts_without_the_page_never_send_or_fail(oidc, body):
    """A post to the login id page that did not come from its form (no CSRF token of this
    browser): no 5xx, no redirect elsewhere, no email to anyone."""
    before = len(emails_to("gavin@hooli.xyz"))
    answer = Browser().post(authorize_url(oidc, **valid(oidc)), data=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(answer, oidc["redirect_uris"])
    assert answer.status_code != 303 or not location(answer).endswith("/oauth2/authorize/wait"), \
        "a login started without the page's CSRF token"
    assert len(emails_to("gavin@hooli.xyz")) == before


@pytest.mark.parametrize("cookie", [None, "fusionauth.pending=", "fusionauth.pending=forged-pending-login",
                                    "fusionauth.pending=" + "A" * 5000])
@pytest.mark.parametrize("body", [b"", b"oneTimeCode=123456", b"oneTimeCode=%ff&csrf=x", JUNK * 50])
def test_the_waiting_page_without_a_pending_login_of_this_browser_gives_nothing(oidc, cookie, body):
    base = oidc["issuer"].rsplit("/", 1)[0]
    headers = {"Cookie": cookie} if cookie else {}
    got = requests.get(f"{base}/oauth2/authorize/wait", headers=headers, allow_redirects=False, timeout=10)
    check(got, oidc["redirect_uris"])
    assert got.status_code != 303 or "code=" not in location(got)
    posted = requests.post(f"{base}/oauth2/authorize/wait", data=body, allow_redirects=False, timeout=10,
                           headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    check(posted, oidc["redirect_uris"])
    assert posted.status_code != 303 or "code=" not in location(posted)


def test_guessing_the_one_time_code_is_refused_after_a_few_tries_even_with_the_right_one_last(oidc):
    person = Hosted("patrice@hooli.xyz")
    person.submit_login_id(authorize_url(oidc, **valid(oidc)))
    right = one_time_code(person.email)

    def code_form(response):
        forms = [f for f in Page(response.text).forms if f["method"] == "post"
                 and urllib.parse.urlsplit(f["action"] or "").path == "/oauth2/authorize/wait"]
        return forms[0] if response.status_code == 200 and forms else None

    def refused_back(response) -> bool:
        if response.status_code not in (302, 303):
            return False
        back = query_of(location(response))
        assert "code" not in back, f"signed in: {back}"
        return back.get("error") == "access_denied"

    considered, refused = 0, False
    for guess in range(1, 6):
        page = person.refresh_waiting_page()
        check(page, oidc["redirect_uris"])
        refused |= refused_back(page)
        form = code_form(page)
        if form is None:  # refused, and the pending login gone from this browser
            break
        fields = hidden_fields(form)
        fields["oneTimeCode"] = f"{(int(right) + guess) % 1000000:06d}"
        answer = person.browser.post(person.waiting_url, data=fields)
        check(answer, oidc["redirect_uris"])
        refused |= refused_back(answer)
        considered += answer.status_code in (200, 303)
    assert considered >= 1, "no wrong code was even considered (refused as a forgery?)"

    # The tries are used up: the right code no longer signs in.
    page = person.refresh_waiting_page()
    check(page, oidc["redirect_uris"])
    refused |= refused_back(page)
    form = code_form(page)
    if form is not None:
        fields = hidden_fields(form)
        fields["oneTimeCode"] = right
        last = person.browser.post(person.waiting_url, data=fields)
        check(last, oidc["redirect_uris"])
        refused |= refused_back(last)
    assert refused, "after five wrong codes the pending login was never refused (access_denied)"


@pytest.mark.parametrize("body", [b"", b"matchCode=00", b"matchCode=" + b"9" * 5000, JUNK * 50,
                                  b"matchCode=12&matchCode=34&csrf=forged"])
def test_hostile_approvals_of_a_link_never_fail_or_sign_in(oidc, body):
    person = Hosted("bighead@hooli.xyz")
    person.submit_login_id(authorize_url(oidc, **valid(oidc)))
    link = magic_link(person.email)
    for target in (link, link.split("?")[0] + "x", link.rsplit("/", 1)[0] + "/%ff%00"):
        answer = requests.post(target, data=body, allow_redirects=False, timeout=10,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(answer, oidc["redirect_uris"])
        assert "Location" not in answer.headers or "code=" not in location(answer)
        assert "signed in on your other device" not in answer.text.lower()
    waiting = person.refresh_waiting_page()
    assert waiting.status_code == 200, "a forged approval moved the waiting page on"


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not.a.jwt"},
    {"Authorization": "Basic " + "x" * 40}, {"Authorization": "Bearer " + "A" * 9000},
    {"Authorization": "bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
], ids=["none", "empty bearer", "garbage", "basic", "huge", "alg none"])
def test_userinfo_without_a_valid_access_token_is_401_with_a_bearer_challenge(oidc, headers):
    base = oidc["issuer"].rsplit("/", 1)[0]
    for method in ("GET", "POST"):
        answer = requests.request(method, f"{base}/oauth2/userinfo?access_token=x", headers=headers,
                                  timeout=10)
        assert answer.status_code in (400, 401), (method, answer.status_code, answer.text[:300])
        if answer.status_code == 401:
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "email" not in answer.text


@pytest.mark.parametrize("params", [
    {"post_logout_redirect_uri": EVIL},
    {"post_logout_redirect_uri": EVIL, "client_id": "06016f4b-2c82-44ab-b84c-3a64658122a7"},
    {"post_logout_redirect_uri": "https://authlib.rp.test@evil.example/signed-out",
     "client_id": "06016f4b-2c82-44ab-b84c-3a64658122a7"},
    {"id_token_hint": "not.a.jwt", "post_logout_redirect_uri": EVIL},
    {"id_token_hint": "A" * 9000, "state": "<script>"},
    {"client_id": "'\"><script>", "post_logout_redirect_uri": "javascript:alert(1)"},
], ids=["evil", "evil with client", "userinfo host", "bad hint", "huge hint", "garbage client"])
def test_logout_never_redirects_to_an_unregistered_uri_and_never_fails(oidc, params):
    base = oidc["issuer"].rsplit("/", 1)[0]
    for method in ("GET", "POST"):
        if method == "GET":
            answer = Browser().get(f"{base}/oauth2/logout?" + urllib.parse.urlencode(params))
        else:
            answer = Browser().post(f"{base}/oauth2/logout", data=params)
        check(answer, oidc["redirect_uris"])
        if "Location" in answer.headers:
            assert "evil.example" not in location(answer) and "javascript:" not in location(answer)
        assert "<script>" not in answer.text


@pytest.mark.parametrize("body", [b"", b"{}", b'{"global": "yes"}', b'{"refreshToken": 5}', JUNK,
                                  b'{"refreshToken": "' + b"A" * 9000 + b'"}'])
def test_api_logout_with_hostile_bodies_never_fails(oidc, body):
    base = oidc["issuer"].rsplit("/", 1)[0]
    answer = requests.post(f"{base}/api/logout", data=body, timeout=10,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])


def test_every_hosted_page_sends_the_security_headers_and_the_login_page_carries_the_hint(oidc):
    answer = Browser().get(authorize_url(oidc, **valid(oidc, login_hint="gavin@hooli.xyz")))
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    page = assert_hosted_page(answer)
    assert field(page.form("/oauth2/authorize"), "loginId").get("value") == "gavin@hooli.xyz"
    error_page = Browser().get(authorize_url(oidc, **valid(oidc, redirect_uri=EVIL)))
    assert_hosted_page(error_page)
    assert isinstance(Page(error_page.text).h1, str)
