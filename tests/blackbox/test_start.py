"""Start Passwordless Login through FusionAuth's Python client (`fusionauth-client`)."""

import os
import pathlib

from fusionauth.fusionauth_client import FusionAuthClient


def test_the_official_client_starts_a_login_by_email_and_gets_a_code(client, web_app):
    response = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "richard@piedpiper.com", "state": {"a": 1}}
    )
    assert response.status == 200, response.error_response
    assert response.was_successful()
    assert len(response.success_response["code"]) == 43
    assert "oneTimeCode" not in response.success_response
    assert response.response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert response.response.headers["Cache-Control"] == "no-store"


def test_a_phone_login_returns_a_one_time_code(client, web_app):
    response = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "720-555-0147", "loginIdTypes": ["phoneNumber"]}
    )
    assert response.status == 200, response.error_response
    one_time_code = response.success_response["oneTimeCode"]
    assert len(one_time_code) == 6 and one_time_code.isdigit()


def test_an_unknown_user_is_a_404_the_client_reads_as_a_failure(client, web_app):
    response = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "nobody@piedpiper.com"}
    )
    assert response.status == 404
    assert not response.was_successful()
    assert response.response.content == b""


def test_validation_errors_reach_the_client_as_a_parsed_errors_object(client):
    response = client.start_passwordless_login({"loginId": "richard"})
    assert response.status == 400
    errors = response.error_response
    assert errors["fieldErrors"]["applicationId"][0]["code"] == "[blank]applicationId"


def test_a_wrong_api_key_is_401(base_url, web_app):
    response = FusionAuthClient("wrong-key-0123456789", base_url).start_passwordless_login(
        {"applicationId": web_app, "loginId": "richard@piedpiper.com"}
    )
    assert response.status == 401
    assert response.response.content == b""


def test_a_tenant_scoped_client_works_in_its_tenant_and_not_in_another(client, kickstart, web_app):
    client.set_tenant_id(kickstart["tenants"][0]["id"])
    ok = client.start_passwordless_login({"applicationId": web_app, "loginId": "richard"})
    assert ok.status == 200, ok.error_response
    client.set_tenant_id("6b0b7c1e-0000-4000-8000-000000000000")
    other = client.start_passwordless_login({"applicationId": web_app, "loginId": "richard"})
    assert other.status == 400
    assert other.error_response["fieldErrors"]["applicationId"][0]["code"] == "[invalid]applicationId"


def test_the_function_logs_hold_no_code_and_no_full_email(client, web_app):
    response = client.start_passwordless_login(
        {"applicationId": web_app, "loginId": "richard@piedpiper.com"}
    )
    code = response.success_response["code"]
    log = pathlib.Path(os.environ["FUNCTIONS_LOG"]).read_text(errors="replace")
    assert "passwordless login started" in log
    assert code not in log
    assert "richard@piedpiper.com" not in log.lower()


def test_an_oversized_login_id_is_a_400_too_long_on_start_and_on_the_legacy_send(client, web_app):
    login_id = "r" * 3000 + "@piedpiper.com"
    started = client.start_passwordless_login({"applicationId": web_app, "loginId": login_id})
    assert started.status == 400
    assert started.error_response["fieldErrors"]["loginId"][0]["code"] == "[tooLong]loginId"
    sent = client.send_passwordless_code({"applicationId": web_app, "loginId": login_id})
    assert sent.status == 400
    assert sent.error_response["fieldErrors"]["loginId"][0]["code"] == "[tooLong]loginId"
