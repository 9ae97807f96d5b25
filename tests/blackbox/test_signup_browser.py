"""Passwordless sign-up on the hosted pages in a real browser (headless Chromium, the driver of
test_oidc_browser.py), behind the example app (examples/oidc-web-app) started here as the client
of "Hooli sign-up", an application of tests/fixtures/kickstart.oidc.json open to sign-ups:

- a new address signs up: the email says "Finish signing up", nobody exists before its link is
  used, and after it the example app shows the person signed in and FusionAuth's Python client
  finds them (`retrieve_user_by_email`) with a registration to the application (its default
  role) and the address verified;
- on "Hooli closed" (registration disabled) the waiting page for an unknown address is the page
  a known one gets, no email goes out and nobody is created."""

from __future__ import annotations

import json
import os
import pathlib
import time
import urllib.parse
import uuid

import pytest

from hosted_flow import emails_to, magic_link, running_example_app, wait_for_email
from test_oidc_browser import Tab, chromium, service_origin  # noqa: F401 (fixture)

SIGN_UP_APP = "0b000000-0000-4002-8000-000000000001"
CLOSED_APP = "0b000000-0000-4002-8000-000000000002"
KNOWN = "bighead@hooli.xyz"


@pytest.fixture(scope="module")
def applications(oidc) -> dict:
    loaded = json.loads(pathlib.Path(os.environ["OIDC_KICKSTART"]).read_text())
    return {a["id"]: a for a in loaded["applications"]}


@pytest.fixture(scope="module")
def sign_up_app(oidc, applications):
    """The example app, as the client of the application open to sign-ups."""
    secret = applications[SIGN_UP_APP]["oauthConfiguration"]["clientSecret"]
    with running_example_app(oidc["issuer"], SIGN_UP_APP, secret, oidc["example_port"]) as origin:
        yield origin


@pytest.fixture()
def users(client, oidc):
    """FusionAuth's Python client, scoped to the relying parties' tenant."""
    tenant_id = urllib.parse.urlsplit(oidc["issuer"]).path.strip("/")
    client.set_tenant_id(tenant_id)
    return client


def new_address() -> str:
    return f"new-{uuid.uuid4().hex[:12]}@hooli.xyz"


def submit_login_id(tab: Tab, service: str, login_id: str) -> None:
    """On the login id page: types the login id, lands on the waiting page."""
    tab.wait_for(service, "/oauth2/authorize")
    tab.submit("form[action='/oauth2/authorize']", {"loginId": login_id})
    tab.wait_for(service, "/oauth2/authorize/wait")


def waiting_page(tab: Tab) -> str:
    """The waiting page as a person sees it, its per-login values (match code, CSRF) blanked."""
    html = tab.evaluate("document.documentElement.outerHTML")
    match_code = tab.evaluate("document.querySelector('[data-match-code]').dataset.matchCode")
    csrf = tab.evaluate("[...document.querySelectorAll('input[name=csrf]')].map(i => i.value)")
    assert csrf and all(csrf), "the page's forms carry a CSRF value"
    for value in csrf:
        html = html.replace(value, "CSRF")
    return html.replace(f'"{match_code}"', '"NN"').replace(f">{match_code}<", ">NN<")


def authorize_url(service: str, client_id: str, redirect: str) -> str:
    query = urllib.parse.urlencode({
        "client_id": client_id, "redirect_uri": redirect, "response_type": "code",
        "scope": "openid", "state": "s", "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    })
    return f"{service}/oauth2/authorize?{query}"


def test_a_new_address_signs_up_through_the_hosted_pages_and_is_then_found_with_its_registration(
        chromium, sign_up_app, oidc, users):
    address = new_address()
    service = service_origin(oidc)
    tab = Tab(chromium, chromium.session)
    tab.navigate(sign_up_app + "/")
    tab.wait_for(sign_up_app, "/")
    tab.evaluate("document.querySelector('#sign-in').click()")
    submit_login_id(tab, service, address)
    email = wait_for_email(address, 0)
    assert email["subject"] == "Finish signing up for Hooli sign-up", email["subject"]
    assert "Finish signing up" in email["body"]
    # Nobody exists before the link is used.
    before = users.retrieve_user_by_email(address)
    assert before.status == 404, (before.status, before.error_response)

    link = magic_link(email)
    tab.navigate(link)
    tab.wait_for(service, "/oauth2/passwordless/", prefix=True)
    tab.evaluate("document.querySelector('form[method=post] button').click()")
    tab.wait_for(sign_up_app, "/", ready="document.querySelector('#email') !== null")
    assert tab.evaluate("document.querySelector('#email').textContent") == address, tab.text()[:800]

    found = users.retrieve_user_by_email(address)
    assert found.was_successful(), (found.status, found.error_response)
    user = found.success_response["user"]
    assert user["email"] == address and user["active"] is True and user["verified"] is True
    registrations = [r for r in user.get("registrations", []) if r["applicationId"] == SIGN_UP_APP]
    assert len(registrations) == 1, user
    assert registrations[0]["roles"] == ["member"], registrations
    claims = tab.evaluate("Object.fromEntries([...document.querySelectorAll('#id tr')].map("
                          "r => [r.querySelector('th').textContent, r.querySelector('td').textContent]))")
    assert claims["sub"] == user["id"], claims


def test_with_registration_disabled_the_page_is_the_same_and_nobody_is_created(
        chromium, oidc, users, applications):
    address = new_address()
    service = service_origin(oidc)
    redirect = applications[CLOSED_APP]["oauthConfiguration"]["authorizedRedirectURLs"][0]
    pages = {}
    for login_id in (KNOWN, address):
        tab = Tab.in_new_context(chromium)
        tab.navigate(authorize_url(service, CLOSED_APP, redirect))
        seen = len(emails_to(login_id))
        submit_login_id(tab, service, login_id)
        pages[login_id] = (waiting_page(tab), seen)
    assert pages[KNOWN][0] == pages[address][0]
    # The known address gets its login email; the unknown one nothing, however long we wait.
    wait_for_email(KNOWN, pages[KNOWN][1])
    time.sleep(2)
    assert emails_to(address) == []
    missing = users.retrieve_user_by_email(address)
    assert missing.status == 404, (missing.status, missing.success_response)
