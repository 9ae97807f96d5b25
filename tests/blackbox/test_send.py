"""Send Passwordless Login through FusionAuth's Python client; the messages are read back from
what the local AWS emulator recorded."""

import os
import uuid

import requests


def sent():
    data = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    return data.get("ses", {}).get("Message", []), data.get("sns", {}).get("SMS", [])


def test_start_then_send_emails_a_magic_link_with_the_code(client, web_app, kickstart):
    marker = uuid.uuid4().hex
    started = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "richard@piedpiper.com", "state": {"m": marker}}
    )
    code = started.success_response["code"]
    response = client.send_passwordless_code({"code": code})
    assert response.status == 200, response.error_response
    assert response.response.content == b""
    assert "Content-Type" not in response.response.headers
    tenant = kickstart["tenants"][0]["id"]
    link = f"https://piedpiper.com/oauth2/passwordless/{code}?tenantId={tenant}&amp;m={marker}"
    emails = [m for m in sent()[0] if link in m["body"]]
    assert len(emails) == 1
    assert emails[0]["destinations"]["ToAddresses"] == ["richard@piedpiper.com"]


def test_start_then_send_texts_the_one_time_code_to_a_phone(client, web_app):
    started = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "+1 720 555 0147", "loginIdTypes": ["phoneNumber"]}
    )
    one_time_code = started.success_response["oneTimeCode"]
    response = client.send_passwordless_code({"code": started.success_response["code"]})
    assert response.status == 200, response.error_response
    texts = [s for s in sent()[1] if s["phone_number"] == "+17205550147"]
    assert texts and one_time_code in texts[-1]["message"]


def test_an_unknown_code_is_a_400_the_client_parses(client):
    response = client.send_passwordless_code({"code": "nope"})
    assert response.status == 400
    assert response.error_response["fieldErrors"]["code"][0]["code"] == "[invalid]code"
