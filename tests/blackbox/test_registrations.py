"""The Registration API through FusionAuth's Python client: register an existing user, create a
user and its registration in one call, retrieve, update, patch and delete (both path forms the
client sends), then a full passwordless login whose JWT carries the registration's roles."""

import base64
import hashlib
import hmac
import json
import os
import re
import uuid

import pytest
import requests
from fusionauth.fusionauth_client import FusionAuthClient

ADMIN_APP = "10000000-0000-0002-0000-000000000002"


@pytest.fixture()
def client(client, kickstart):
    """The Pied Piper tenant's client: the stack has several tenants, so a call that creates
    users names its tenant, as FusionAuth requires (`[TenantIdRequired]` otherwise)."""
    client.set_tenant_id(kickstart["tenants"][0]["id"])
    return client


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_hs256(token: str, secret: bytes) -> dict:
    header, payload, signature = token.split(".")
    expected = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(expected, b64url_decode(signature)), "bad signature"
    return json.loads(b64url_decode(payload))


def new_address() -> str:
    return f"reg-{uuid.uuid4().hex[:12]}@piedpiper.com"


def register_new(client: FusionAuthClient, web_app: str, email: str, **registration) -> dict:
    response = client.register(
        {"user": {"email": email, "firstName": "Reg"},
         "registration": {"applicationId": web_app, **registration}}
    )
    assert response.status == 200, response.error_response
    return response.success_response


def test_full_registration_then_a_passwordless_login_whose_jwt_carries_the_roles(
    client, web_app, kickstart
):
    email = new_address()
    created = register_new(client, web_app, email, roles=["user", "admin"], data={"plan": "pro"})
    user_id = created["user"]["id"]
    assert created["registration"]["roles"] == ["user", "admin"]
    assert created["user"]["registrations"][0]["applicationId"] == web_app

    # The login a user of this application makes: start, the email sent, the link's code.
    marker = uuid.uuid4().hex
    started = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": email, "state": {"m": marker}}
    )
    assert started.status == 200, started.error_response
    assert client.send_passwordless_code({"code": started.success_response["code"]}).status == 200
    messages = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    body = next(m["body"] for m in messages["ses"]["Message"] if marker in m["body"])
    code = re.search(r"/oauth2/passwordless/([A-Za-z0-9_-]+)\?", body).group(1)
    login = client.passwordless_login({"code": code, "applicationId": web_app})
    assert login.status == 200, login.error_response

    secret = base64.b64decode(kickstart["keys"][0]["secret"])
    claims = verify_hs256(login.success_response["token"], secret)
    assert claims["sub"] == user_id
    assert claims["applicationId"] == web_app
    assert claims["roles"] == ["user", "admin"]
    assert claims["email"] == email


def test_roles_left_out_are_the_applications_default_roles(client, web_app):
    created = register_new(client, web_app, new_address())
    assert created["registration"]["roles"] == ["user", "community_helper"]


def test_an_existing_user_is_registered_retrieved_updated_patched_and_deleted(client, web_app):
    user_id = register_new(client, web_app, new_address())["user"]["id"]

    registered = client.register(
        {"registration": {"applicationId": ADMIN_APP, "roles": ["admin"]},
         "skipRegistrationVerification": True},
        user_id,
    )
    assert registered.status == 200, registered.error_response
    assert registered.success_response["registration"]["roles"] == ["admin"]
    assert registered.success_response["registration"]["verified"] is True

    again = client.register({"registration": {"applicationId": ADMIN_APP}}, user_id)
    assert again.status == 400
    assert again.error_response["fieldErrors"]["registration"][0]["code"] == "[duplicate]registration"

    retrieved = client.retrieve_registration(user_id, ADMIN_APP)
    assert retrieved.status == 200
    assert retrieved.success_response["registration"]["applicationId"] == ADMIN_APP

    # update_registration: PUT /api/user/registration/{userId}, the application in the body.
    updated = client.update_registration(
        user_id, {"registration": {"applicationId": web_app, "roles": ["admin"],
                                   "data": {"a": 1}, "timezone": "Europe/Paris"}}
    )
    assert updated.status == 200, updated.error_response
    assert updated.success_response["registration"]["roles"] == ["admin"]

    # patch_registration: PATCH /api/user/registration/{userId}, merged into what is there.
    patched = client.patch_registration(
        user_id, {"registration": {"applicationId": web_app, "data": {"b": 2}}}
    )
    assert patched.status == 200, patched.error_response
    registration = patched.success_response["registration"]
    assert registration["roles"] == ["admin"]
    assert registration["data"] == {"a": 1, "b": 2}
    assert registration["timezone"] == "Europe/Paris"

    assert client.delete_registration(user_id, ADMIN_APP).status == 200
    assert client.retrieve_registration(user_id, ADMIN_APP).status == 404
    deleted = client.delete_registration_with_request(
        user_id, web_app, {"eventInfo": {"ipAddress": "10.0.0.1"}}
    )
    assert deleted.status == 200
    assert client.retrieve_registration(user_id, web_app).status == 404
    # The user is still there.
    assert client.retrieve_user(user_id).status == 200


def test_deleting_a_registration_refuses_the_users_refresh_tokens_for_it(client, web_app):
    email = new_address()
    user_id = register_new(client, web_app, email)["user"]["id"]
    started = client.start_passwordless_login({"applicationId": web_app, "loginId": email})
    login = client.passwordless_login(
        {"code": started.success_response["code"], "applicationId": web_app}
    ).success_response
    assert client.delete_registration(user_id, web_app).status == 200
    refused = client.exchange_refresh_token_for_jwt({"refreshToken": login["refreshToken"]})
    assert refused.status == 400
    assert refused.error_response["fieldErrors"]["refreshToken"][0]["code"] == "[invalid]refreshToken"


def test_a_combined_registration_with_a_taken_address_is_a_duplicate_email(client, web_app):
    response = client.register(
        {"user": {"email": "RICHARD@piedpiper.com"}, "registration": {"applicationId": web_app}}
    )
    assert response.status == 400
    assert response.error_response["fieldErrors"]["user.email"][0]["code"] == "[duplicate]user.email"


def test_unknown_roles_and_applications_are_field_errors(client, web_app):
    response = client.register(
        {"user": {"email": new_address()},
         "registration": {"applicationId": web_app, "roles": ["root"]}}
    )
    assert response.status == 400
    assert list(response.error_response["fieldErrors"]) == ["registration.roles"]
    response = client.register(
        {"registration": {"applicationId": str(uuid.uuid4())}},
        "00000000-0000-0001-0000-000000000001",
    )
    assert response.status == 400
    assert list(response.error_response["fieldErrors"]) == ["registration.applicationId"]


def test_an_unknown_user_is_404_and_a_wrong_key_401(client, base_url, web_app, kickstart):
    assert client.retrieve_registration(str(uuid.uuid4()), web_app).status == 404
    assert client.register({"registration": {"applicationId": web_app}}, str(uuid.uuid4())).status == 404
    wrong = FusionAuthClient("wrong-key-0123456789", base_url)
    assert wrong.retrieve_registration("00000000-0000-0001-0000-000000000001", web_app).status == 401
    locked = next(k["key"] for k in kickstart["apiKeys"] if k.get("permissions"))
    start_only = FusionAuthClient(locked, base_url)
    assert start_only.register({"user": {"email": new_address()},
                                "registration": {"applicationId": web_app}}).status == 401


def test_another_tenant_sees_no_registration(client, web_app):
    client.set_tenant_id("6b0b7c1e-0000-4000-8000-000000000000")
    response = client.retrieve_registration("00000000-0000-0001-0000-000000000001", web_app)
    assert response.status == 404


def test_hostile_bodies_are_4xx_with_errors_and_never_a_5xx(base_url, kickstart):
    key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))
    headers = {"Authorization": key, "Content-Type": "application/json"}
    url = base_url + "/api/user/registration/00000000-0000-0001-0000-000000000001"
    bodies = [
        # Bodies that are not UTF-8 are left out: `cargo lambda watch` answers them 500 itself,
        # before any function runs (scripts/schemathesis_hooks.py); the integration tests send
        # them through the handler.
        b"{",
        b"[" * 10000 + b"]" * 10000,
        b'{"registration": {"applicationId": "' + b"a" * 100_000 + b'"}}',
        json.dumps({"registration": {"applicationId": 7, "roles": {"a": 1}}}).encode(),
        json.dumps({"registration": "x", "user": 3}).encode(),
    ]
    for body in bodies:
        for method in ("POST", "PUT", "PATCH"):
            response = requests.request(method, url, data=body, headers=headers, timeout=30)
            assert 400 <= response.status_code < 500, (method, body[:40], response.status_code)
            assert response.json().keys() & {"fieldErrors", "generalErrors"}


def test_with_several_tenants_a_new_user_needs_its_tenant_named(base_url, kickstart, web_app):
    key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))
    response = FusionAuthClient(key, base_url).register(
        {"user": {"email": new_address()}, "registration": {"applicationId": web_app}}
    )
    assert response.status == 400
    assert [e["code"] for e in response.error_response["generalErrors"]] == ["[TenantIdRequired]"]
