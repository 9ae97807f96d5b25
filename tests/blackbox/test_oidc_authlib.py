"""A relying party no one here wrote, Python's authlib, signs a person in through the hosted pages:
discovery from the tenant's issuer, an authorization request with PKCE (S256), a nonce and a state
built by authlib, the person's walk (login id, the one-time code from the email typed on the
waiting page), the code exchanged and the id token verified by authlib against the JWKS (signature,
iss, aud, exp, nonce, at_hash), userinfo, a refresh, and RP-initiated logout.

authlib is used unmodified: its OpenID Connect client is the one its Flask, Django and Starlette
integrations are made of (`OAuth2Mixin` + `OpenIDMixin` over its requests `OAuth2Session`), with no
web framework around it; the refresh uses the documented `OAuth2Session.refresh_token`."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
import requests
from authlib.integrations.base_client import (
    BaseApp,
    FrameworkIntegration,
    OAuth2Mixin,
    OAuthError,
    OpenIDMixin,
)
from authlib.integrations.requests_client import OAuth2Session

from hosted_flow import Hosted, location, query_of, without_query

REDIRECT = "https://authlib.rp.test/callback"
SIGNED_OUT = "https://authlib.rp.test/signed-out"
SCOPE = "openid email profile offline_access"


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):
    """authlib's OpenID Connect client, assembled as authlib's framework integrations do."""

    client_cls = OAuth2Session


class NoFramework(FrameworkIntegration):
    """Tokens live in the test, not in a web framework's session."""

    def update_token(self, token, refresh_token=None, access_token=None):
        pass


@pytest.fixture()
def rp(oidc) -> RelyingParty:
    return RelyingParty(
        NoFramework("hooli"), "hooli",
        client_id=oidc["client_id"], client_secret=oidc["client_secret"],
        server_metadata_url=f"{oidc['issuer']}/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jose_header(jwt: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "==="))


def test_discovery_at_the_issuer_names_every_endpoint_a_standard_library_needs(rp, oidc):
    metadata = rp.load_server_metadata()
    assert metadata["issuer"] == oidc["issuer"], "the issuer must be the URL discovery was read from"
    base = oidc["issuer"].rsplit("/", 1)[0]
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                 "end_session_endpoint"):
        assert metadata.get(name, "").startswith(base + "/"), (name, metadata.get(name))
    assert metadata["response_types_supported"] == ["code"]
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert metadata.get("authorization_response_iss_parameter_supported") is True
    assert {"query", "form_post"} <= set(metadata["response_modes_supported"])
    assert {"openid", "offline_access"} <= set(metadata["scopes_supported"])
    jwks = rp.fetch_jwk_set()
    assert any(k.get("kty") == "RSA" and k.get("use", "sig") == "sig" for k in jwks["keys"]), jwks
    assert all("k" not in k for k in jwks["keys"]), "an HMAC secret must never be published"


def test_authlib_signs_in_verifies_the_id_token_reads_userinfo_refreshes_and_logs_out(rp, oidc):
    login_id = "gavin@hooli.xyz"
    metadata = rp.load_server_metadata()

    # The authorization request as authlib builds it: PKCE S256, nonce, state.
    request = rp.create_authorization_url(REDIRECT)
    sent = query_of(request["url"])
    assert sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    assert sent["nonce"] == request["nonce"] and sent["state"] == request["state"]
    assert without_query(request["url"]) == metadata["authorization_endpoint"]

    person = Hosted(login_id)
    callback = person.sign_in_with_typed_code(request["url"])
    assert without_query(callback) == REDIRECT
    back = query_of(callback)
    assert back["state"] == request["state"] and back["iss"] == oidc["issuer"]  # RFC 9207
    assert "error" not in back, back

    # authlib exchanges the code (client_secret_basic + code_verifier), checking the state.
    token = rp.fetch_access_token(REDIRECT, authorization_response=callback,
                                  state=request["state"], code_verifier=request["code_verifier"])
    assert token["token_type"].lower() == "bearer" and token["refresh_token"]
    assert set(token["scope"].split()) >= {"openid", "offline_access"}

    # authlib verifies the id token: RS256 signature with the JWKS key its kid names, the
    # algorithms discovery lists, iss, aud, exp, iat, nonce and at_hash.
    claims = rp.parse_id_token(token, nonce=request["nonce"])
    header = jose_header(token["id_token"])
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in rp.fetch_jwk_set()["keys"]}
    assert claims["iss"] == oidc["issuer"] and claims["aud"] == oidc["client_id"]
    assert claims["nonce"] == request["nonce"]
    # at_hash is checked by authlib only when present: it must be, and be right.
    digest = hashlib.sha256(token["access_token"].encode()).digest()
    assert claims["at_hash"] == b64url(digest[:16])
    assert claims["email"] == login_id and claims["email_verified"] is True
    assert claims["sub"] == oidc["users"][login_id]["id"]
    assert abs(claims["auth_time"] - time.time()) < 120
    assert claims.get("sid"), "the SSO session id (the id token's sid)"

    # Userinfo through authlib, with the access token as Bearer.
    userinfo = rp.userinfo(token=token)
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == login_id and userinfo["email_verified"] is True
    assert userinfo["given_name"] == "Gavin" and userinfo["family_name"] == "Belson"
    refused = requests.get(metadata["userinfo_endpoint"],
                           headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")

    # A refresh through authlib's session: a new access token and an id token for the same user
    # and authentication (OIDC Core 12.2), which authlib verifies again.
    session = OAuth2Session(oidc["client_id"], oidc["client_secret"], token=token)
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    again = rp.parse_id_token(refreshed, nonce=None)
    assert (again["iss"], again["sub"], again["aud"], again["auth_time"]) == \
        (claims["iss"], claims["sub"], claims["aud"], claims["auth_time"])
    assert rp.userinfo(token=refreshed)["sub"] == claims["sub"]

    # The SSO session: a second authorization with prompt=none answers at once with a code.
    silent = rp.create_authorization_url(REDIRECT, prompt="none")
    answered = person.browser.get(silent["url"])
    assert answered.status_code in (302, 303), (answered.status_code, answered.text[:300])
    silent_back = query_of(location(answered))
    assert silent_back.get("code") and silent_back["state"] == silent["state"], silent_back
    assert silent_back["iss"] == oidc["issuer"]

    # RP-initiated logout: the end_session URL as authlib builds it, followed in the browser.
    logout = rp.create_logout_url(post_logout_redirect_uri=SIGNED_OUT, id_token_hint=token["id_token"])
    assert without_query(logout["url"]) == metadata["end_session_endpoint"]
    left = person.browser.get(logout["url"])
    assert left.status_code in (302, 303), (left.status_code, left.text[:300])
    assert without_query(location(left)) == SIGNED_OUT
    assert query_of(location(left))["state"] == logout["state"]

    # Signed out: prompt=none now answers login_required, and the refresh token issued within the
    # session no longer refreshes.
    after = rp.create_authorization_url(REDIRECT, prompt="none")
    refused_silently = person.browser.get(after["url"])
    assert refused_silently.status_code in (302, 303), refused_silently.status_code
    error = query_of(location(refused_silently))
    assert without_query(location(refused_silently)) == REDIRECT
    assert error["error"] == "login_required" and error["state"] == after["state"]
    assert error["iss"] == oidc["issuer"] and "code" not in error
    with pytest.raises(OAuthError) as revoked:
        OAuth2Session(oidc["client_id"], oidc["client_secret"]).refresh_token(
            metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert revoked.value.error == "invalid_grant"


def test_a_code_authlib_did_not_ask_for_is_refused_by_authlib_and_the_code_works_once(rp, oidc):
    login_id = "hoover@hooli.xyz"
    request = rp.create_authorization_url(REDIRECT)
    callback = Hosted(login_id).sign_in_with_typed_code(request["url"])

    # The redirect back with another state (a forged callback): authlib refuses before exchanging.
    other = rp.create_authorization_url(REDIRECT)
    with pytest.raises(Exception) as mismatch:
        rp.fetch_access_token(REDIRECT, authorization_response=callback, state=other["state"],
                              code_verifier=request["code_verifier"])
    assert "state" in str(mismatch.value).lower() or "csrf" in str(mismatch.value).lower()

    token = rp.fetch_access_token(REDIRECT, authorization_response=callback,
                                  state=request["state"], code_verifier=request["code_verifier"])
    # Another request's nonce: the id token is refused by authlib.
    with pytest.raises(Exception) as wrong_nonce:
        rp.parse_id_token(token, nonce=other["nonce"])
    assert "nonce" in str(wrong_nonce.value).lower()
    assert rp.parse_id_token(token, nonce=request["nonce"])["email"] == login_id

    with pytest.raises(OAuthError) as reused:
        rp.fetch_access_token(REDIRECT, authorization_response=callback,
                              state=request["state"], code_verifier=request["code_verifier"])
    assert reused.value.error == "invalid_grant"
