"""A second relying party no one here wrote, Node's openid-client v6 (on oauth4webapi), the
strictest of the common libraries: it discovers the provider from the issuer and requires the
document's issuer to be that very URL, builds the authorization URL (PKCE S256, nonce, state),
checks the redirect back (state, and `iss` exactly, RFC 9207), exchanges the code
(client_secret_post), verifies the id token's signature against the JWKS (its documented
`enableNonRepudiationChecks`) and its claims (iss, aud, exp, iat, nonce), reads userinfo (its sub
must equal the id token's), refreshes, and builds the end_session URL.

The library runs unmodified in tests/blackbox/rp/rp.mjs (installed by `make test` with `npm ci`
from the pinned package-lock.json), driven over stdin/stdout one JSON step at a time; the person's
walk through the hosted pages is hosted_flow's, as in the authlib test."""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
import subprocess
import time

import pytest

from hosted_flow import Hosted, Page, hidden_fields, one_time_code, location, query_of, without_query

RP_DIR = pathlib.Path(__file__).resolve().parent / "rp"
REDIRECT = "https://openid-client.rp.test/callback"
SIGNED_OUT = "https://openid-client.rp.test/signed-out"
SCOPE = "openid email profile offline_access"


class NodeRelyingParty:
    def __init__(self) -> None:
        if not (RP_DIR / "node_modules" / "openid-client").is_dir():
            pytest.fail("openid-client is not installed: `make test` installs it "
                        "(scripts/lib.sh ensure_node_modules: npm ci in tests/blackbox/rp)")
        self.process = subprocess.Popen(
            ["node", str(RP_DIR / "rp.mjs")], cwd=RP_DIR, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def step(self, op: str, **params) -> dict:
        self.process.stdin.write(json.dumps({"op": op, **params}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"openid-client's driver exited during {op}"
        return json.loads(line)

    def ok(self, op: str, **params) -> dict:
        answer = self.step(op, **params)
        assert "error" not in answer, f"openid-client refused {op}: {answer['error']}"
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture()
def node_rp(oidc):
    rp = NodeRelyingParty()
    yield rp
    rp.close()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_openid_client_discovers_signs_in_verifies_reads_userinfo_refreshes_and_logs_out(node_rp, oidc):
    login_id = "bighead@hooli.xyz"
    metadata = node_rp.ok("discover", issuer=oidc["issuer"], clientId=oidc["client_id"],
                          clientSecret=oidc["client_secret"])["metadata"]
    assert metadata["issuer"] == oidc["issuer"]

    request = node_rp.ok("authorize", redirectUri=REDIRECT, scope=SCOPE)
    sent = query_of(request["url"])
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["nonce"] == request["nonce"] and sent["state"] == request["state"]
    assert without_query(request["url"]) == metadata["authorization_endpoint"]

    person = Hosted(login_id)
    callback = person.sign_in_with_typed_code(request["url"])
    assert without_query(callback) == REDIRECT

    # openid-client checks state and iss on the redirect back, exchanges the code, verifies the
    # id token's signature with the JWKS and its claims, nonce included.
    signed_in = node_rp.ok("callback", url=callback)
    tokens, claims = signed_in["tokens"], signed_in["claims"]
    assert claims["iss"] == oidc["issuer"] and claims["aud"] == oidc["client_id"]
    assert claims["nonce"] == request["nonce"]
    assert claims["sub"] == oidc["users"][login_id]["id"] and claims["email"] == login_id
    # openid-client leaves at_hash to the application in the code flow: checked here.
    digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    assert claims["at_hash"] == b64url(digest[:16])
    assert abs(claims["auth_time"] - time.time()) < 120
    assert tokens["refresh_token"] and tokens["token_type"].lower() == "bearer"

    userinfo = node_rp.ok("userinfo")["userinfo"]
    assert userinfo["sub"] == claims["sub"] and userinfo["email"] == login_id
    assert userinfo["given_name"] == "Nelson" and userinfo["family_name"] == "Bighetti"

    refreshed = node_rp.ok("refresh")
    assert refreshed["tokens"]["access_token"] != tokens["access_token"]
    again = refreshed["claims"]
    assert (again["iss"], again["sub"], again["aud"], again["auth_time"]) == \
        (claims["iss"], claims["sub"], claims["aud"], claims["auth_time"])

    # Logout: the end_session URL as openid-client builds it (id_token_hint, the registered
    # post_logout_redirect_uri, state), followed in the person's browser.
    logout = node_rp.ok("logout", postLogoutRedirectUri=SIGNED_OUT)
    assert without_query(logout["url"]) == metadata["end_session_endpoint"]
    left = person.browser.get(logout["url"])
    assert left.status_code in (302, 303), (left.status_code, left.text[:300])
    assert without_query(location(left)) == SIGNED_OUT
    assert query_of(location(left))["state"] == logout["state"]

    # Signed out: a prompt=none request comes back login_required, which openid-client reports
    # as the provider's error (after checking state and iss on it).
    silent = node_rp.ok("authorize", redirectUri=REDIRECT, scope=SCOPE, prompt="none")
    answered = person.browser.get(silent["url"])
    assert answered.status_code in (302, 303), (answered.status_code, answered.text[:300])
    refused = node_rp.step("callback", url=location(answered))
    assert refused.get("error", {}).get("error") == "login_required", refused
    assert node_rp.step("refresh").get("error"), "the session's refresh token is revoked at logout"


def test_openid_client_refuses_a_redirect_back_that_another_request_started(node_rp, oidc):
    node_rp.ok("discover", issuer=oidc["issuer"], clientId=oidc["client_id"],
               clientSecret=oidc["client_secret"])
    first = node_rp.ok("authorize", redirectUri=REDIRECT, scope=SCOPE)
    callback = Hosted("patrice@hooli.xyz").sign_in_with_typed_code(first["url"])
    node_rp.ok("authorize", redirectUri=REDIRECT, scope=SCOPE)  # the driver now expects another state
    refused = node_rp.step("callback", url=callback)
    assert "state" in json.dumps(refused.get("error", {})).lower(), refused


def test_openid_client_signs_in_with_the_form_post_response_mode(node_rp, oidc):
    """response_mode=form_post: the redirect back is a page whose one nonce'd script posts the
    code, state and iss to the client (CSP: that script only, form-action to the client)."""
    login_id = "denpok@hooli.xyz"
    node_rp.ok("discover", issuer=oidc["issuer"], clientId=oidc["client_id"],
               clientSecret=oidc["client_secret"])
    request = node_rp.ok("authorize", redirectUri=REDIRECT, scope=SCOPE, responseMode="form_post")
    person = Hosted(login_id)
    person.submit_login_id(request["url"])
    answer = person.type_code(one_time_code(person.email))
    assert answer.status_code == 200, (answer.status_code, answer.headers.get("Location"))
    csp = answer.headers["Content-Security-Policy"]
    assert "'nonce-" in csp and "form-action https://openid-client.rp.test" in csp, csp
    assert "no-store" in answer.headers["Cache-Control"]
    page = Page(answer.text)
    assert page.scripts == 1, "one script: the nonce'd auto-submit"
    (form,) = [f for f in page.forms if f["action"] == REDIRECT]
    assert form["method"] == "post"
    fields = hidden_fields(form)
    assert fields["state"] == request["state"] and fields["iss"] == oidc["issuer"] and fields["code"]

    signed_in = node_rp.ok("callback", url=REDIRECT, form=fields)
    assert signed_in["claims"]["email"] == login_id
    assert signed_in["claims"]["nonce"] == request["nonce"]
