"""`/oauth2/userinfo` as FusionAuth's Python client calls it
(`retrieve_user_info_from_access_token`), against the served functions: an application that got
an access token by the magic link's landing page and the code exchange asks who the user is, and
gets the claims of the scopes it was granted, nothing for a token without `openid`, and RFC 6750's
challenge for a token that is not valid."""

import re
import urllib.parse

import requests

from test_landing import REDIRECT, WEB_APP, pkce, start_and_send

RICHARD = "00000000-0000-0001-0000-000000000001"


def code_grant(client, base_url, scope):
    """Richard's tokens for the web app: the link's page opened and its button pressed (as a
    browser without JavaScript would), the code exchanged with PKCE."""
    verifier, challenge = pkce()
    code = start_and_send(client, {
        "redirect_uri": REDIRECT, "scope": scope, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    session = requests.Session()
    link = f"{base_url}/oauth2/passwordless/{code}"
    page = session.get(link, timeout=10)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    pressed = session.post(link, data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert pressed.status_code == 303, pressed.text
    location = pressed.headers["location"]
    assert location.startswith(REDIRECT)
    issued = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    exchanged = client.exchange_o_auth_code_for_access_token_using_pkce(
        issued["code"], REDIRECT, verifier, WEB_APP)
    assert exchanged.status == 200, exchanged.error_response
    return exchanged.success_response


def test_the_client_library_gets_the_claims_of_the_granted_scopes(client, base_url):
    tokens = code_grant(client, base_url, "openid email profile")
    answer = client.retrieve_user_info_from_access_token(tokens["access_token"])
    assert answer.status == 200, answer.error_response
    # The code went to Richard's address, so the login verified it.
    assert answer.success_response == {
        "sub": RICHARD, "email": "richard@piedpiper.com", "email_verified": True,
        "given_name": "Richard", "family_name": "Hendricks", "preferred_username": "richard",
    }
    raw = requests.get(f"{base_url}/oauth2/userinfo", timeout=10,
                       headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert "www-authenticate" not in raw.headers, "never a challenge on a 200"

    only_openid = code_grant(client, base_url, "openid")
    answer = client.retrieve_user_info_from_access_token(only_openid["access_token"])
    assert answer.status == 200 and answer.success_response == {"sub": RICHARD}


def test_a_token_without_openid_or_not_valid_gets_the_challenge_and_no_claims(client, base_url):
    login = client.start_passwordless_login({"applicationId": WEB_APP,
                                             "loginId": "richard@piedpiper.com"})
    api_token = client.passwordless_login(
        {"code": login.success_response["code"], "applicationId": WEB_APP}
    ).success_response["token"]
    refused = client.retrieve_user_info_from_access_token(api_token)
    # The client library hands a non-400 error back as the raw response.
    assert refused.status == 403
    assert refused.error_response.json()["error"] == "insufficient_scope"

    tampered = client.retrieve_user_info_from_access_token(api_token[:-2] + "xx")
    assert tampered.status == 401
    assert tampered.error_response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in tampered.error_response.headers["www-authenticate"]

    bare = requests.get(f"{base_url}/oauth2/userinfo", timeout=10)
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"].startswith('Bearer realm="')
    assert "error=" not in bare.headers["www-authenticate"]
