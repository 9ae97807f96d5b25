"""Hostile bodies and parameters on every route of the User API, from the outside: huge,
deeply nested, wrong types, control characters, not JSON. Whatever is sent: a 4xx with
FusionAuth's `Errors` body, never a 5xx, and never a half-written user (the target user is
unchanged and no user holds an address a hostile body named)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from test_users import PIED_PIPER, address

JUNK = "\x00\x01\x7f\ufffd\u202e"
MARKER = f"hostile-{uuid.uuid4().hex[:8]}@piedpiper.com"


def deep(levels: int):
    value: object = "x"
    for _ in range(levels):
        value = {"d": value}
    return value


BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"\"user\"",
    b"{\"user\": ",
    b"{\"user\": {\"email\": \"" + MARKER.encode() + b"\"",
    JUNK.encode(),
    json.dumps(deep(300)).encode(),
    json.dumps({"user": {"email": deep(100)}}).encode(),
    json.dumps({"user": {"email": MARKER, "data": deep(60)}}).encode(),
    json.dumps({"user": {"email": [MARKER], "username": {"a": 1}, "phoneNumber": 5}}).encode(),
    json.dumps({"user": {"email": MARKER, "preferredLanguages": ["en"] * 25}}).encode(),
    json.dumps({"user": {"email": MARKER, "firstName": JUNK * 100}}).encode(),
    json.dumps({"user": {"email": JUNK + MARKER}}).encode(),
    json.dumps({"user": {"email": MARKER, "expiry": 1e300, "birthDate": "yesterday"}}).encode(),
    json.dumps({"user": {"email": MARKER, "data": {"blob": "x" * 70_000}}}).encode(),
    json.dumps({"user": {"email": "x" * 100_000 + "@piedpiper.com"}}).encode(),
    json.dumps({"search": {"ids": ["not-an-id"] * 500}}).encode(),
    json.dumps({"search": "ids"}).encode(),
    json.dumps({"hardDelete": "yes"}).encode(),
]


@pytest.fixture()
def target(client) -> dict:
    client.set_tenant_id(PIED_PIPER)
    response = client.create_user({"user": {"email": address("target"), "firstName": "Target"}})
    assert response.status == 200, response.error_response
    return response.success_response["user"]


def headers(key: str) -> dict:
    return {"Authorization": key, "Content-Type": "application/json", "X-FusionAuth-TenantId": PIED_PIPER}


def test_hostile_bodies_on_every_user_route_are_4xx_with_errors_and_write_nothing(base_url, client, target, kickstart):
    key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))
    routes = [
        ("POST", "/api/user"),
        ("POST", f"/api/user/{uuid.uuid4()}"),
        ("PUT", f"/api/user/{target['id']}"),
        ("PATCH", f"/api/user/{target['id']}"),
        ("DELETE", f"/api/user/{target['id']}"),
        ("POST", "/api/user/search"),
    ]
    for method, path in routes:
        for body in BODIES:
            response = requests.request(method, base_url + path, data=body, headers=headers(key), timeout=30)
            shown = (method, path, body[:60])
            assert response.status_code < 500, (shown, response.status_code, response.text[:300])
            if method == "DELETE" and response.status_code == 200:
                # A DELETE reads only `hardDelete`: a body without it deactivates. Put it back.
                assert client.reactivate_user(target["id"]).status == 200
                continue
            if method == "POST" and path.endswith("/search") and response.status_code == 200:
                # Ids that are no ids are ignored, as FusionAuth ignores them.
                assert response.json() == {"total": 0, "users": []}, shown
                continue
            assert 400 <= response.status_code < 500, (shown, response.status_code, response.text[:300])
            errors = response.json()
            assert "fieldErrors" in errors or "generalErrors" in errors, (shown, response.text[:300])
    after = client.retrieve_user(target["id"])
    assert after.status == 200
    assert after.success_response["user"]["email"] == target["email"]
    assert after.success_response["user"]["firstName"] == "Target"
    assert after.success_response["user"]["active"] is True
    assert client.retrieve_user_by_email(MARKER).status == 404


def test_hostile_query_parameters_are_4xx_or_404_never_5xx(base_url, kickstart):
    key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))
    for query in [
        {"email": JUNK},
        {"email": "x" * 10_000},
        {"loginId": "a@b.co", "loginIdTypes": "passport"},
        {"loginId": JUNK, "loginIdTypes": ["email", "phoneNumber", "username"]},
        {"username": ""},
        {},
        {"ids": ["x"] * 200},
        {"queryString": "*"},
    ]:
        for path in ("/api/user", "/api/user/search"):
            response = requests.get(base_url + path, params=query, headers=headers(key), timeout=30)
            assert response.status_code < 500, (path, query, response.status_code, response.text[:300])
            if response.status_code == 400:
                errors = response.json()
                assert "fieldErrors" in errors or "generalErrors" in errors
    for segment in ["not-a-uuid", "%00", "x" * 300, "00000000-0000-0001-0000-000000000001%2F.."]:
        response = requests.get(f"{base_url}/api/user/{segment}", headers=headers(key), timeout=30)
        assert response.status_code in (400, 404), (segment, response.status_code)
