"""FusionAuth's logout API through FusionAuth's Python client, as an application signs a user out:
`logout(global, refresh_token)` revokes that refresh token (all of the user's with `global`) and
answers 200 with the login cookies expired; `logout_with_request` takes the same in a JSON body."""

from fusionauth.fusionauth_client import FusionAuthClient

RICHARD = "richard@piedpiper.com"


def log_in(client: FusionAuthClient, application_id: str) -> dict:
    started = client.start_passwordless_login({"applicationId": application_id, "loginId": RICHARD})
    assert started.status == 200, started.error_response
    response = client.passwordless_login(
        {"code": started.success_response["code"], "applicationId": application_id}
    )
    assert response.status == 200, response.error_response
    return response.success_response


def exchanges(client: FusionAuthClient, refresh_token: str) -> bool:
    return client.exchange_refresh_token_for_jwt({"refreshToken": refresh_token}).status == 200


def expired_cookies(response) -> set:
    """The names of the cookies the response expires (Max-Age=0)."""
    headers = response.response.raw.headers.getlist("Set-Cookie")
    return {h.split("=", 1)[0] for h in headers if "Max-Age=0" in h}


def test_logout_revokes_the_given_refresh_token_and_leaves_the_users_others(client, web_app):
    first = log_in(client, web_app)
    second = log_in(client, web_app)

    response = client.logout(False, first["refreshToken"])

    assert response.status == 200, response.error_response
    assert not response.response.content
    assert {"access_token", "refresh_token", "fusionauth.sso"} <= expired_cookies(response)
    assert not exchanges(client, first["refreshToken"])
    assert exchanges(client, second["refreshToken"])


def test_a_global_logout_revokes_every_refresh_token_of_the_user(client, web_app):
    first = log_in(client, web_app)
    second = log_in(client, web_app)

    response = client.logout(True, first["refreshToken"])

    assert response.status == 200, response.error_response
    assert not exchanges(client, first["refreshToken"])
    assert not exchanges(client, second["refreshToken"])


def test_logout_with_a_json_request_and_with_nothing_to_revoke_still_answers_200(client, web_app):
    login = log_in(client, web_app)

    response = client.logout_with_request({"global": False, "refreshToken": login["refreshToken"]})
    assert response.status == 200, response.error_response
    assert not exchanges(client, login["refreshToken"])

    nothing = client.logout(False)
    assert nothing.status == 200, nothing.error_response
