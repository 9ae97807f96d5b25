"""One sender identity per tenant: with the three-senders kickstart loaded (make test), a user of
each tenant gets the email from their tenant's own domain, through FusionAuth's Python client."""

import json
import os
import pathlib
import uuid

import pytest
import requests
from fusionauth.fusionauth_client import FusionAuthClient

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "kickstart.three-senders.json"
THREE_SENDERS = json.loads(FIXTURE.read_text())


def sent_emails():
    data = requests.get(os.environ["MOTO_URL"] + "/moto-api/sent.json", timeout=10).json()
    return data.get("ses", {}).get("Message", [])


@pytest.mark.parametrize("tenant", THREE_SENDERS["tenants"], ids=lambda t: t["name"])
def test_each_tenant_mails_its_users_from_its_own_domain(base_url, tenant):
    client = FusionAuthClient(THREE_SENDERS["apiKeys"][0]["key"], base_url)
    application = next(a for a in THREE_SENDERS["applications"] if a["tenantId"] == tenant["id"])
    user = next(u for u in THREE_SENDERS["users"] if u["tenantId"] == tenant["id"])
    marker = uuid.uuid4().hex
    started = client.start_passwordless_login(
        {"applicationId": application["id"], "loginId": user["email"], "state": {"m": marker}}
    )
    assert started.status == 200, started.error_response
    sent = client.send_passwordless_code({"code": started.success_response["code"]})
    assert sent.status == 200, sent.error_response

    emails = [m for m in sent_emails() if marker in m["body"]]
    assert len(emails) == 1
    sender = tenant["emailConfiguration"]["defaultFromEmail"]
    assert emails[0]["source"] == f'"{tenant["name"]}" <{sender}>'
    assert emails[0]["source"].endswith("@" + tenant["issuer"] + ">")
    assert emails[0]["destinations"]["ToAddresses"] == [user["email"]]
