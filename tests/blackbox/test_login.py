"""The whole flow through FusionAuth's Python client: start, send, take the code from the
delivered link, complete the login, and verify the JWT with the tenant's key."""

import base64
import hashlib
import hmac
import json
import os
import re
import uuid

import requests


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_hs256(token: str, secret: bytes) -> dict:
    header, payload, signature = token.split(".")
    expected = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(expected, b64url_decode(signature)), "bad signature"
    assert json.loads(b64url_decode(header))["alg"] == "HS256"
    return json.loads(b64url_decode(payload))


def test_start_send_and_login_with_the_code_from_the_delivered_link(client, web_app, kickstart):
    marker = uuid.uuid4().hex
    started = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "richard@piedpiper.com", "state": {"m": marker}}
    )
    assert started.status == 200
    sent = client.send_passwordless_code({"code": started.success_response["code"]})
    assert sent.status == 200

    messages = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    body = next(m["body"] for m in messages["ses"]["Message"] if marker in m["body"])
    code = re.search(r"/oauth2/passwordless/([A-Za-z0-9_-]+)\?", body).group(1)

    response = client.passwordless_login({"code": code, "applicationId": web_app})
    assert response.status == 200, response.error_response
    login = response.success_response
    assert login["state"] == {"m": marker}
    assert login["user"]["email"] == "richard@piedpiper.com"
    assert login["refreshToken"] and login["refreshTokenId"]

    secret = base64.b64decode(kickstart["keys"][0]["secret"])
    claims = verify_hs256(login["token"], secret)
    assert claims["sub"] == "00000000-0000-0001-0000-000000000001"
    assert claims["aud"] == web_app
    assert claims["iss"] == "piedpiper.com"
    assert claims["authenticationType"] == "PASSWORDLESS"

    replay = client.passwordless_login({"code": code, "applicationId": web_app})
    assert replay.status == 404


def identity(user: dict, kind: str) -> dict:
    return next(i for i in user["identities"] if i["type"] == kind)


def test_a_username_code_sent_by_email_verifies_the_email_and_the_username_stays_unverifiable(
    client, web_app
):
    started = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "jared", "loginIdTypes": ["username"]}
    )
    assert started.status == 200
    code = started.success_response["code"]
    assert client.send_passwordless_code({"code": code}).status == 200

    response = client.passwordless_login({"code": code, "applicationId": web_app})
    assert response.status == 200, response.error_response
    user = response.success_response["user"]
    assert identity(user, "email")["verified"] is True
    assert identity(user, "email")["verifiedReason"] == "Implicit"
    assert identity(user, "username")["verified"] is False
    assert identity(user, "username")["verifiedReason"] == "Unverifiable"
    claims = json.loads(b64url_decode(response.success_response["token"].split(".")[1]))
    assert claims["email_verified"] is True


def test_a_code_of_one_application_does_not_log_in_to_another(client, web_app, kickstart):
    admin_console = kickstart["applications"][1]["id"]
    started = client.start_passwordless_login({"applicationId": web_app, "loginId": "jared"})
    code = started.success_response["code"]
    elsewhere = client.passwordless_login({"code": code, "applicationId": admin_console})
    assert elsewhere.status == 404
    here = client.passwordless_login({"code": code, "applicationId": web_app})
    assert here.status == 200, here.error_response
