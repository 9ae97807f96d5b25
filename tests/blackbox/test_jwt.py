"""The token lifecycle through FusionAuth's Python client, as an application uses it: exchange a
refresh token for a new JWT, revoke refresh tokens every way the client offers, fetch the public
keys and the discovery document, validate a JWT, and verify an ES256 JWT with PyJWT from the JWKS
alone. `make test` loads tests/fixtures/kickstart.example.json (HS256) and
tests/fixtures/kickstart.es256.json (a second tenant signing with ES256, and an application whose
refresh tokens are one-time use)."""

import base64
import json
import os
import pathlib
import re
import time
import uuid

import jwt
import pytest
import requests
from fusionauth.fusionauth_client import FusionAuthClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
ES256 = json.loads((ROOT / "tests" / "fixtures" / "kickstart.es256.json").read_text())
ES256_KEY = ES256["keys"][0]
EUROPE = ES256["tenants"][0]
EUROPE_WEB = ES256["applications"][0]["id"]
EUROPE_ONE_TIME_USE = ES256["applications"][1]["id"]
MONICA = ES256["users"][0]
NELSON = ES256["users"][1]
RICHARD = "00000000-0000-0001-0000-000000000001"


def log_in(client: FusionAuthClient, application_id: str, login_id: str) -> dict:
    """A passwordless login with the code start returns (as an application with its own delivery
    would): the login response, with a JWT and a refresh token."""
    started = client.start_passwordless_login({"applicationId": application_id, "loginId": login_id})
    assert started.status == 200, started.error_response
    response = client.passwordless_login(
        {"code": started.success_response["code"], "applicationId": application_id}
    )
    assert response.status == 200, response.error_response
    login = response.success_response
    assert login["token"] and login["refreshToken"] and login["refreshTokenId"]
    return login


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def refused_codes(response) -> list:
    assert response.status == 400, (response.status, response.error_response)
    return [e["code"] for e in response.error_response["fieldErrors"]["refreshToken"]]


def assert_refused(client: FusionAuthClient, refresh_token: str) -> None:
    response = client.exchange_refresh_token_for_jwt({"refreshToken": refresh_token})
    assert refused_codes(response) == ["[invalid]refreshToken"]


def assert_exchanges(client: FusionAuthClient, refresh_token: str) -> dict:
    response = client.exchange_refresh_token_for_jwt({"refreshToken": refresh_token})
    assert response.status == 200, response.error_response
    return response.success_response


def jwk_of(client: FusionAuthClient, kid: str) -> dict:
    response = client.retrieve_json_web_key_set()
    assert response.status == 200
    return next(k for k in response.success_response["keys"] if k["kid"] == kid)


def pem_lines(pem: str) -> list:
    return [line for line in pem.strip().splitlines() if line]


# Exchange


def test_a_refresh_token_from_a_delivered_passwordless_login_exchanges_for_a_new_jwt(client):
    # Monica, of the second tenant: no other black-box test sends her codes, so her sends stay
    # well within the tenant's rate limit.
    marker = uuid.uuid4().hex
    started = client.start_passwordless_login(
        {"applicationId": EUROPE_WEB, "loginId": MONICA["email"], "state": {"m": marker}}
    )
    assert started.status == 200
    assert client.send_passwordless_code({"code": started.success_response["code"]}).status == 200
    messages = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    body = next(m["body"] for m in messages["ses"]["Message"] if marker in m["body"])
    code = re.search(r"/oauth2/passwordless/([A-Za-z0-9_-]+)\?", body).group(1)
    login = client.passwordless_login({"code": code, "applicationId": EUROPE_WEB})
    assert login.status == 200, login.error_response
    login = login.success_response

    time.sleep(1.1)  # a new JWT differs from the login's by its `iat`
    response = client.exchange_refresh_token_for_jwt({"refreshToken": login["refreshToken"]})
    assert response.status == 200, response.error_response
    exchanged = response.success_response
    assert set(exchanged) == {"token", "refreshToken", "refreshTokenId"}
    assert exchanged["token"] != login["token"]
    # The application's default policy is Reusable: the same refresh token comes back.
    assert exchanged["refreshToken"] == login["refreshToken"]
    assert exchanged["refreshTokenId"] == login["refreshTokenId"]
    claims = claims_of(exchanged["token"])
    assert claims["sub"] == MONICA["id"]
    assert claims["aud"] == EUROPE_WEB
    assert claims["iss"] == EUROPE["issuer"]
    assert claims["exp"] > time.time()
    cookies = response.response.headers.get("Set-Cookie", "")
    assert f"access_token={exchanged['token']}" in cookies
    assert f"refresh_token={exchanged['refreshToken']}" in cookies
    # A reusable token keeps working.
    assert assert_exchanges(client, login["refreshToken"])["refreshTokenId"] == login["refreshTokenId"]


def test_an_exchange_without_a_refresh_token_is_refused_as_missing(client):
    response = client.exchange_refresh_token_for_jwt({})
    assert refused_codes(response) == ["[missing]refreshToken"]


def test_an_unknown_refresh_token_is_refused_as_invalid(client):
    assert_refused(client, "not-a-refresh-token-of-ours")


def test_a_one_time_use_refresh_token_rotates_and_its_reuse_revokes_the_whole_family(client):
    login = log_in(client, EUROPE_ONE_TIME_USE, MONICA["email"])
    first = assert_exchanges(client, login["refreshToken"])
    assert first["refreshToken"] != login["refreshToken"]
    assert first["refreshTokenId"] == login["refreshTokenId"]
    second = assert_exchanges(client, first["refreshToken"])
    assert second["refreshToken"] not in (login["refreshToken"], first["refreshToken"])
    assert second["refreshTokenId"] == login["refreshTokenId"]

    # Someone presents an already rotated token: the family is revoked, the latest token too.
    assert_refused(client, first["refreshToken"])
    assert_refused(client, second["refreshToken"])
    assert_refused(client, login["refreshToken"])


# Revocation


def test_revoke_refresh_token_with_only_the_token_revokes_that_token(client):
    login = log_in(client, EUROPE_WEB, NELSON["email"])
    other = log_in(client, EUROPE_WEB, NELSON["email"])
    response = client.revoke_refresh_token(token=login["refreshToken"])
    assert response.status == 200
    assert response.response.content == b""
    assert_refused(client, login["refreshToken"])
    assert_exchanges(client, other["refreshToken"])


def test_revoke_refresh_token_by_id_revokes_it_and_a_second_revocation_finds_nothing(client):
    login = log_in(client, EUROPE_WEB, NELSON["email"])
    assert client.revoke_refresh_token_by_id(login["refreshTokenId"]).status == 200
    assert_refused(client, login["refreshToken"])
    assert client.revoke_refresh_token_by_id(login["refreshTokenId"]).status == 404
    assert client.revoke_refresh_token_by_id(str(uuid.uuid4())).status == 404


def test_revoke_refresh_token_by_token_revokes_it_and_an_unknown_token_is_not_found(client):
    login = log_in(client, EUROPE_WEB, NELSON["email"])
    assert client.revoke_refresh_token_by_token(login["refreshToken"]).status == 200
    assert_refused(client, login["refreshToken"])
    assert client.revoke_refresh_token_by_token(login["refreshToken"]).status == 404


def test_revoke_refresh_tokens_by_user_id_revokes_every_application_of_that_user_only(client):
    web = log_in(client, EUROPE_WEB, MONICA["email"])
    mobile = log_in(client, EUROPE_ONE_TIME_USE, MONICA["email"])
    someone_else = log_in(client, EUROPE_WEB, NELSON["email"])
    assert client.revoke_refresh_tokens_by_user_id(MONICA["id"]).status == 200
    assert_refused(client, web["refreshToken"])
    assert_refused(client, mobile["refreshToken"])
    assert_exchanges(client, someone_else["refreshToken"])
    # A login after the revocation gets a refresh token that works.
    assert_exchanges(client, log_in(client, EUROPE_WEB, MONICA["email"])["refreshToken"])


def test_revoke_refresh_tokens_by_user_id_for_application_leaves_the_other_applications(client):
    web = log_in(client, EUROPE_WEB, MONICA["email"])
    mobile = log_in(client, EUROPE_ONE_TIME_USE, MONICA["email"])
    response = client.revoke_refresh_tokens_by_user_id_for_application(MONICA["id"], EUROPE_WEB)
    assert response.status == 200
    assert_refused(client, web["refreshToken"])
    assert_exchanges(client, mobile["refreshToken"])


def test_revoke_refresh_tokens_by_application_id_revokes_every_user_of_that_application(client):
    monica = log_in(client, EUROPE_WEB, MONICA["email"])
    nelson = log_in(client, EUROPE_WEB, NELSON["email"])
    elsewhere = log_in(client, EUROPE_ONE_TIME_USE, NELSON["email"])
    assert client.revoke_refresh_tokens_by_application_id(EUROPE_WEB).status == 200
    # The documented bound (README, Behaviour notes, Ceilings): a refresh container keeps what it
    # read of an application's revocation for one second.
    time.sleep(1.1)
    assert_refused(client, monica["refreshToken"])
    assert_refused(client, nelson["refreshToken"])
    assert_exchanges(client, elsewhere["refreshToken"])


def test_revocation_needs_an_api_key(base_url):
    anonymous = FusionAuthClient(None, base_url)
    assert anonymous.revoke_refresh_tokens_by_user_id(MONICA["id"]).status == 401
    wrong = FusionAuthClient("not-a-key-of-ours-0123456789abcdef", base_url)
    assert wrong.revoke_refresh_tokens_by_user_id(MONICA["id"]).status == 401


def test_a_key_allowed_only_to_start_logins_may_not_revoke(base_url, kickstart):
    locked = next(k["key"] for k in kickstart["apiKeys"] if k.get("permissions"))
    limited = FusionAuthClient(locked, base_url)
    assert limited.revoke_refresh_tokens_by_user_id(RICHARD).status == 401


def test_revoking_for_an_unknown_user_or_application_is_not_found(client):
    by_user = client.revoke_refresh_tokens_by_user_id(str(uuid.uuid4()))
    assert by_user.status == 404
    assert by_user.response.content == b""
    by_app = client.revoke_refresh_tokens_by_application_id(str(uuid.uuid4()))
    assert by_app.status == 404
    assert by_app.response.content == b""


# Keys and discovery


def test_the_json_web_key_set_publishes_the_es256_key_and_never_an_hs256_secret(client, kickstart):
    response = client.retrieve_json_web_key_set()
    assert response.status == 200
    assert response.response.headers["Cache-Control"] == "public, max-age=300"
    keys = response.success_response["keys"]
    kids = [k["kid"] for k in keys]
    assert ES256_KEY["id"] in kids
    assert kickstart["keys"][0]["id"] not in kids  # the example's HS256 key
    es256 = jwk_of(client, ES256_KEY["id"])
    assert {k: es256[k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "use": "sig",
    }
    assert es256["x"] and es256["y"] and "d" not in es256
    for key in keys:
        assert key["alg"] in ("RS256", "ES256")
        assert not {"d", "k", "p", "q"} & set(key), "a private or secret part is published"


def test_retrieve_jwt_public_key_by_kid_gives_the_pem_and_none_for_an_hs256_key(client, kickstart):
    response = client.retrieve_jwt_public_key(ES256_KEY["id"])
    assert response.status == 200
    assert pem_lines(response.success_response["publicKey"]) == pem_lines(ES256_KEY["publicKey"])
    assert client.retrieve_jwt_public_key(kickstart["keys"][0]["id"]).status == 404
    assert client.retrieve_jwt_public_key(str(uuid.uuid4())).status == 404


def test_retrieve_jwt_public_key_by_application_id_gives_the_key_its_tokens_are_signed_with(
    client, web_app
):
    response = client.retrieve_jwt_public_key_by_application_id(EUROPE_WEB)
    assert response.status == 200
    assert pem_lines(response.success_response["publicKey"]) == pem_lines(ES256_KEY["publicKey"])
    # The example's applications sign with HS256: no public key to give.
    assert client.retrieve_jwt_public_key_by_application_id(web_app).status == 404
    assert client.retrieve_jwt_public_key_by_application_id(str(uuid.uuid4())).status == 404


def test_retrieve_jwt_public_keys_lists_every_public_key_by_kid(client, kickstart):
    response = client.retrieve_jwt_public_keys()
    assert response.status == 200
    keys = response.success_response["publicKeys"]
    assert pem_lines(keys[ES256_KEY["id"]]) == pem_lines(ES256_KEY["publicKey"])
    assert kickstart["keys"][0]["id"] not in keys


def test_the_openid_configuration_describes_the_default_tenant_and_each_named_one(
    client, base_url
):
    response = client.retrieve_open_id_configuration()
    assert response.status == 200
    document = response.success_response
    assert document["issuer"] == "piedpiper.com"  # the first tenant of the first kickstart
    assert document["jwks_uri"] == f"{base_url}/.well-known/jwks.json"
    # The example signs id tokens with its HS256 key's choice (the client secret); RS256 is
    # always listed, as OpenID Connect Discovery requires.
    assert document["id_token_signing_alg_values_supported"] == ["HS256", "RS256"]
    assert document["userinfo_endpoint"] == f"{base_url}/oauth2/userinfo"

    europe = FusionAuthClient(None, base_url)
    europe.set_tenant_id(EUROPE["id"])
    response = europe.retrieve_open_id_configuration()
    assert response.status == 200
    assert response.success_response["issuer"] == EUROPE["issuer"]
    assert response.success_response["id_token_signing_alg_values_supported"] == [
        "RS256", "ES256"]
    jwks = requests.get(response.success_response["jwks_uri"], timeout=10)
    assert ES256_KEY["id"] in [k["kid"] for k in jwks.json()["keys"]]

    unknown = FusionAuthClient(None, base_url)
    unknown.set_tenant_id(str(uuid.uuid4()))
    assert unknown.retrieve_open_id_configuration().status == 404


def test_validate_jwt_returns_the_claims_of_our_tokens_and_refuses_a_forged_one(client, web_app):
    for application_id, login_id in ((web_app, "jared@piedpiper.com"), (EUROPE_WEB, NELSON["email"])):
        token = log_in(client, application_id, login_id)["token"]
        response = client.validate_jwt(token)
        assert response.status == 200, response.error_response
        claims = response.success_response["jwt"]
        assert claims["aud"] == application_id
        assert claims["sub"] == claims_of(token)["sub"]

        header, payload, signature = token.split(".")
        forged = dict(claims_of(token), roles=["admin"])
        forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
        assert client.validate_jwt(f"{header}.{forged_payload}.{signature}").status == 401
    assert client.validate_jwt("not.a.jwt").status == 401


def test_a_token_from_a_tenant_with_an_es256_key_verifies_with_pyjwt_using_only_the_jwks(
    client, base_url
):
    login = log_in(client, EUROPE_WEB, MONICA["email"])
    token = login["token"]
    kid = jwt.get_unverified_header(token)["kid"]
    anonymous = FusionAuthClient(None, base_url)  # a resource server holds no API key
    key = jwt.PyJWK(jwk_of(anonymous, kid))

    claims = jwt.decode(
        token,
        key=key,
        algorithms=["ES256"],
        audience=EUROPE_WEB,
        issuer=EUROPE["issuer"],
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    assert claims["sub"] == MONICA["id"]
    assert claims["exp"] > time.time()

    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key=key, algorithms=["ES256"], audience=EUROPE_ONE_TIME_USE)
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, key=key, algorithms=["ES256"], audience=EUROPE_WEB, issuer="piedpiper.com")
    header, payload, signature = token.split(".")
    tampered = dict(claims_of(token), sub=str(uuid.uuid4()))
    tampered_payload = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{tampered_payload}.{signature}", key=key, algorithms=["ES256"],
                   audience=EUROPE_WEB)


def test_the_token_endpoint_answers_fusionauths_error_reason_to_its_client(client, web_app):
    """`/oauth2/token`'s errors as FusionAuth's client reads them: RFC 6749's `error` with
    FusionAuth's `error_reason` and an `error_description`."""
    unknown = client.exchange_o_auth_code_for_access_token_using_pkce(
        "no-such-code", "https://piedpiper.com/oauth/callback", "v" * 43, web_app)
    assert unknown.status == 400, unknown.success_response
    assert unknown.error_response["error"] == "invalid_grant"
    assert unknown.error_response["error_reason"] == "auth_code_not_found"
    assert unknown.error_response["error_description"]
    garbage = client.exchange_refresh_token_for_access_token("not-a-refresh-token", web_app)
    assert garbage.status == 400, garbage.success_response
    assert garbage.error_response["error"] == "invalid_grant"
    assert garbage.error_response["error_reason"] == "refresh_token_not_found"
