"""Secrets at rest and in logs (issue 7, property 6). After whole flows through FusionAuth's
Python client — a magic link by email, a one-time code by email, a one-time code by SMS, each sent
and logged in with — neither moto table holds a code, a one-time code (nor the fallback code a
link's email carries), a refresh token, an access
token or the API key in plain text, and the functions' logs (FUNCTIONS_LOG, what
`cargo lambda watch` captured) hold none of them, nor a full email address or phone number of the
users."""

import json
import os
import pathlib
import re
import time
import uuid

import boto3
import requests

RICHARD = {"loginId": "richard@piedpiper.com", "email": "richard@piedpiper.com"}
DINESH_E164 = "+17205550147"
# Every way the users' addresses could be written: as stored, as typed, canonical.
PERSONAL = [
    "richard@piedpiper.com",
    DINESH_E164,
    "17205550147",
    "7205550147",
    "720-555-0147",
    "(720) 555-0147",
    "+1 303-555-1212",
    "+13035551212",
    "3035551212",
]


def moto_data() -> dict:
    return requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()


def table_items(name: str) -> list[dict]:
    dynamo = boto3.client(
        "dynamodb",
        endpoint_url=os.environ["MOTO_URL"],
        region_name="us-east-1",
        # The admin credentials of the harness (scripts/local_iam.py admin).
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    items, kwargs = [], {"TableName": name}
    while True:
        page = dynamo.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def occurs(secret: str, text: str) -> bool:
    """Whether `secret` occurs in `text` as a token of its own: a six-digit one-time code inside
    a longer run of digits or hex (a timestamp, a hash) is not it."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text) is not None


def flows(client, web_app) -> dict[str, list[str]]:
    """Runs the three flows; returns every secret they handed out, by kind."""
    secrets = {"code": [], "oneTimeCode": [], "fallbackCode": [], "refreshToken": [], "token": []}
    cases = [
        ({"loginId": "richard@piedpiper.com"}, "email"),
        ({"loginId": "richard@piedpiper.com", "loginStrategy": "FormField"}, "email"),
        ({"loginId": "(720) 555-0147", "loginIdTypes": ["phoneNumber"]}, "sms"),
    ]
    for start_fields, channel in cases:
        marker = uuid.uuid4().hex
        started = client.start_passwordless_login(
            {"applicationId": web_app, "state": {"m": marker}, **start_fields}
        )
        assert started.status == 200, started.error_response
        code = started.success_response["code"]
        one_time_code = started.success_response.get("oneTimeCode")
        secrets["code"].append(code)
        if one_time_code:
            secrets["oneTimeCode"].append(one_time_code)

        sent = client.send_passwordless_code({"code": code})
        assert sent.status == 200, sent.error_response
        data = moto_data()
        if channel == "email":
            bodies = [m["body"] for m in data["ses"]["Message"]]
            needle = one_time_code or code
        else:
            bodies = [m["message"] for m in data["sns"]["SMS"] if m["phone_number"] == DINESH_E164]
            needle = one_time_code
        assert any(needle in body for body in bodies), f"the {channel} was not delivered"
        if channel == "email" and not one_time_code:
            # A link's email carries its fallback one-time code beside the link.
            body = next(body for body in bodies if code in body)
            secrets["fallbackCode"].append(
                re.search(r"this code: <strong>(\w+)</strong>", body).group(1))

        login = {"code": code, "applicationId": web_app}
        if one_time_code:
            login["oneTimeCode"] = one_time_code
        response = client.passwordless_login(login)
        assert response.status == 200, response.error_response
        secrets["refreshToken"].append(response.success_response["refreshToken"])
        secrets["token"].append(response.success_response["token"])
    return secrets


def wait_for_log_lines(log: pathlib.Path, offset: int, messages: list[str]) -> str:
    """The log written since `offset`, once it has every one of `messages` (the functions write
    their lines a moment after they answer)."""
    deadline = time.monotonic() + 15
    while True:
        with log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        missing = [m for m in messages if m not in text]
        if not missing or time.monotonic() > deadline:
            assert not missing, f"the functions' log lines are not in {log}: {missing}"
            return text


def test_no_secret_or_personal_address_is_stored_or_logged_in_plain_text(client, web_app, kickstart):
    log = pathlib.Path(os.environ["FUNCTIONS_LOG"])
    offset = log.stat().st_size
    secrets = flows(client, web_app)
    api_key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))
    every_secret = [(kind, s) for kind, values in secrets.items() for s in values]
    every_secret += [("apiKey", k["key"]) for k in kickstart["apiKeys"]]
    assert len(secrets["oneTimeCode"]) == 2 and len(secrets["refreshToken"]) == 3
    assert len(secrets["fallbackCode"]) == 1
    assert api_key

    for table in ("blackbox-directory", "blackbox-codes"):
        items = table_items(table)
        assert items, f"{table} is empty: not the tables the service uses"
        for item in items:
            text = json.dumps(item)
            for kind, secret in every_secret:
                assert not occurs(secret, text), f"{table} holds a {kind} in plain text: {item['pk']}"

    logged = wait_for_log_lines(
        log,
        offset,
        [
            "passwordless login started",
            "passwordless email sent",
            "passwordless SMS sent",
            "passwordless login completed",
        ],
    )
    whole_log = log.read_text("utf-8", "replace")
    for kind, secret in every_secret:
        assert not occurs(secret, whole_log), f"the functions' log holds a {kind}"
    for address in PERSONAL:
        assert address.lower() not in whole_log.lower(), f"the functions' log holds {address}"
    # What the log does say: who, and redacted addresses.
    assert "r***@piedpiper.com" in logged
    assert "+1******0147" in logged
