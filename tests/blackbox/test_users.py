"""The User API through FusionAuth's Python client, as an application calls it: create, retrieve
by id, email, login id and username, duplicates and bad bodies (400 with FusionAuth's codes),
update and patch (a patched email moves the login), deactivate, reactivate and hard delete (the
refresh token refused after each), search by ids, permissions and tenant-locked keys, and eight
concurrent creates of one address.

The stack serves several tenants (the example's, the ES256 one, three-senders', the OIDC one), so
a create or an address lookup names its tenant (`set_tenant_id`) or uses a tenant-locked key, as
FusionAuth requires."""

import concurrent.futures
import uuid

import pytest
from fusionauth.fusionauth_client import FusionAuthClient

PIED_PIPER = "f24aca2b-ce4a-4dad-951a-c9d690e71415"
HOOLI = "3a000000-0000-4000-8000-000000000001"
RICHARD = "00000000-0000-0001-0000-000000000001"
# Registered to the web app, used by no other suite; expired in the example (un-expired here by a
# patch).
ERLICH = "erlich@aviato.com"
ERLICH_ID = "00000000-0000-0001-0000-000000000005"
READER_KEY = "user-api-reader-key-0123456789abcdef"
PIED_PIPER_KEY = "pied-piper-users-key-0123456789abcdef"


@pytest.fixture()
def users(client) -> FusionAuthClient:
    """The global key, in the Pied Piper tenant."""
    client.set_tenant_id(PIED_PIPER)
    return client


def address(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@piedpiper.com"


def codes(response) -> list:
    errors = response.error_response or {}
    found = [e["code"] for field in (errors.get("fieldErrors") or {}).values() for e in field]
    return found + [e["code"] for e in errors.get("generalErrors") or []]


def created(users: FusionAuthClient, user: dict) -> dict:
    response = users.create_user({"user": user})
    assert response.status == 200, response.error_response
    return response.success_response["user"]


def log_in(client: FusionAuthClient, application_id: str, login_id: str):
    started = client.start_passwordless_login({"applicationId": application_id, "loginId": login_id})
    if started.status != 200:
        return started
    return client.passwordless_login(
        {"code": started.success_response["code"], "applicationId": application_id}
    )


def refreshes(client: FusionAuthClient, refresh_token: str) -> bool:
    response = client.exchange_refresh_token_for_jwt({"refreshToken": refresh_token})
    assert response.status in (200, 400), response.status
    return response.status == 200


def test_a_created_user_is_retrieved_by_id_email_login_id_and_username(users):
    email = address("Dinesh")
    user = created(users, {"email": email, "username": email.split("@")[0], "firstName": "Dinesh",
                           "data": {"team": "backend"}})
    assert user["email"] == email.lower()
    assert user["tenantId"] == PIED_PIPER
    assert user["active"] is True
    assert "password" not in user
    for response in (
        users.retrieve_user(user["id"]),
        users.retrieve_user_by_email(email.upper()),
        users.retrieve_user_by_login_id(email),
        users.retrieve_user_by_login_id_with_login_id_types(email.split("@")[0], ["email", "username"]),
        users.retrieve_user_by_username(email.split("@")[0].upper()),
    ):
        assert response.status == 200, response.error_response
        assert response.success_response["user"]["id"] == user["id"]
        assert response.success_response["user"]["data"] == {"team": "backend"}
    assert users.retrieve_user_by_email(address("nobody")).status == 404
    assert users.retrieve_user(str(uuid.uuid4())).status == 404
    assert users.retrieve_user_by_login_id_with_login_id_types(email, ["username"]).status == 404


def test_a_create_at_an_id_makes_that_user(users):
    user_id = str(uuid.uuid4())
    response = users.create_user({"user": {"phoneNumber": "+1 415 555 0142"}}, user_id)
    assert response.status == 200, response.error_response
    assert response.success_response["user"]["id"] == user_id
    assert response.success_response["user"]["phoneNumber"] == "+14155550142"


def test_duplicates_and_bad_bodies_are_400_with_fusionauths_codes(users):
    assert codes(users.create_user({"user": {"email": "RICHARD@piedpiper.com"}})) == ["[duplicate]user.email"]
    assert codes(users.create_user({"user": {"email": address("x"), "username": "RICHARD"}})) == [
        "[duplicate]user.username"
    ]
    assert codes(users.create_user({"user": {"email": "not-an-address"}})) == ["[notEmail]user.email"]
    assert codes(users.create_user({"user": {"firstName": "Nobody"}})) == ["[blank]user.email"]
    assert codes(users.create_user({"user": {"email": address("p"), "phoneNumber": "12"}})) == [
        "[invalidPhone]user.phoneNumber"
    ]
    assert codes(users.create_user({"user": {"email": address("e"), "expiry": "soon"}})) == [
        "[couldNotConvert]user.expiry"
    ]
    assert codes(users.create_user({"email": address("no-user-object")})) == ["[missing]user"]


def test_with_several_tenants_a_create_without_a_tenant_is_tenant_id_required(client):
    response = client.create_user({"user": {"email": address("lost")}})
    assert response.status == 400
    assert codes(response) == ["[TenantIdRequired]"]
    assert codes(client.retrieve_user_by_email("richard@piedpiper.com")) == ["[TenantIdRequired]"]
    # By id the tenant is not needed (FusionAuth's scoped rule).
    assert client.retrieve_user(RICHARD).status == 200


def test_a_tenant_locked_key_works_in_its_tenant_only(base_url, client):
    locked = FusionAuthClient(PIED_PIPER_KEY, base_url)
    user = locked.create_user({"user": {"email": address("locked")}})
    assert user.status == 200, user.error_response
    assert user.success_response["user"]["tenantId"] == PIED_PIPER
    assert locked.retrieve_user_by_email("richard@piedpiper.com").success_response["user"]["id"] == RICHARD
    client.set_tenant_id(HOOLI)
    hooli_user = created(client, {"email": address("hooli")})
    assert locked.retrieve_user(hooli_user["id"]).status == 404
    assert locked.patch_user(hooli_user["id"], {"user": {"firstName": "Hijacked"}}).status == 404
    assert locked.delete_user(hooli_user["id"]).status == 404
    assert client.retrieve_user(hooli_user["id"]).success_response["user"].get("firstName") is None
    locked.set_tenant_id(HOOLI)
    assert locked.retrieve_user(hooli_user["id"]).status == 401


def test_a_key_is_allowed_only_its_permitted_methods(base_url):
    reader = FusionAuthClient(READER_KEY, base_url)
    assert reader.retrieve_user(RICHARD).status == 200
    reader.set_tenant_id(PIED_PIPER)
    assert reader.create_user({"user": {"email": address("reader")}}).status == 401
    assert reader.deactivate_user(RICHARD).status == 401
    assert reader.search_users_by_ids([RICHARD]).status == 401
    assert FusionAuthClient("not-a-key", base_url).retrieve_user(RICHARD).status == 401
    assert reader.retrieve_user(RICHARD).success_response["user"]["active"] is True


def test_patching_the_email_moves_the_login(users, web_app):
    old, new = address("old"), address("new")
    user = created(users, {"email": old, "firstName": "Jian"})
    patched = users.patch_user(user["id"], {"user": {"email": new}})
    assert patched.status == 200, patched.error_response
    assert patched.success_response["user"]["email"] == new
    assert patched.success_response["user"]["firstName"] == "Jian"
    assert users.retrieve_user_by_email(old).status == 404
    assert users.retrieve_user_by_email(new).success_response["user"]["id"] == user["id"]
    assert log_in(users, web_app, old).status == 404
    login = log_in(users, web_app, new)
    # 202: logged in, not registered to the application (FusionAuth's status).
    assert login.status == 202, login.error_response
    assert login.success_response["user"]["id"] == user["id"]
    # The old address is free again.
    created(users, {"email": old})


def test_an_update_replaces_the_profile(users):
    email = address("update")
    user = created(users, {"email": email, "firstName": "Monica"})
    updated = users.update_user(user["id"], {"user": {"email": email, "lastName": "Hall"}})
    assert updated.status == 200, updated.error_response
    assert "firstName" not in updated.success_response["user"]
    assert updated.success_response["user"]["lastName"] == "Hall"
    taken = users.update_user(user["id"], {"user": {"email": "richard@piedpiper.com"}})
    assert codes(taken) == ["[duplicate]user.email"]


def test_deactivate_reactivate_and_hard_delete_each_refuse_the_refresh_token(users, web_app):
    assert log_in(users, web_app, ERLICH).status == 410, "the example's Erlich has expired"
    # A patch with `null` removes the field (FusionAuth's JSON merge).
    unexpired = users.patch_user(ERLICH_ID, {"user": {"expiry": None}})
    assert unexpired.status == 200, unexpired.error_response
    assert "expiry" not in unexpired.success_response["user"]
    first = log_in(users, web_app, ERLICH)
    assert first.status == 200, first.error_response
    erlich = first.success_response["user"]["id"]
    token = first.success_response["refreshToken"]
    assert refreshes(users, token)

    assert users.deactivate_user(erlich).status == 200
    assert users.retrieve_user(erlich).success_response["user"]["active"] is False
    assert not refreshes(users, token)
    assert log_in(users, web_app, ERLICH).status == 404

    reactivated = users.reactivate_user(erlich)
    assert reactivated.status == 200
    assert reactivated.success_response["user"]["active"] is True
    assert not refreshes(users, token), "a token revoked by the deactivation stays revoked"
    second = log_in(users, web_app, ERLICH)
    assert second.status == 200, second.error_response
    assert refreshes(users, second.success_response["refreshToken"])

    assert users.delete_user(erlich).status == 200
    assert users.retrieve_user(erlich).status == 404
    assert users.retrieve_user_by_email(ERLICH).status == 404
    assert not refreshes(users, second.success_response["refreshToken"])
    assert log_in(users, web_app, ERLICH).status == 404
    # The address can be used again (a new user, without the old registration).
    again = created(users, {"email": ERLICH, "firstName": "Erlich"})
    assert again["id"] != erlich


def test_delete_with_a_request_body_hard_deletes(users):
    user = created(users, {"email": address("body-delete")})
    assert users.delete_user_with_request(user["id"], {"hardDelete": True}).status == 200
    assert users.retrieve_user(user["id"]).status == 404


def test_a_search_by_ids_finds_the_users_it_names(users):
    one = created(users, {"email": address("search")})
    found = users.search_users_by_ids([one["id"], str(uuid.uuid4()), RICHARD])
    assert found.status == 200, found.error_response
    assert [u["id"] for u in found.success_response["users"]] == [one["id"], RICHARD]
    assert found.success_response["total"] == 2
    by_query = users.search_users_by_query({"search": {"queryString": "richard"}})
    assert by_query.status == 400
    assert codes(by_query) == ["[notSupported]search.queryString"]


def test_eight_concurrent_creates_of_one_address_make_exactly_one_user(base_url, kickstart):
    email = address("race")
    global_key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))

    def create(i: int):
        client = FusionAuthClient(global_key, base_url)
        client.set_tenant_id(PIED_PIPER)
        return client.create_user({"user": {"email": email, "firstName": f"try {i}"}})

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(8)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] + [400] * 7, statuses
    for refused in (r for r in responses if r.status == 400):
        assert codes(refused) == ["[duplicate]user.email"]
    winner = next(r for r in responses if r.status == 200).success_response["user"]["id"]
    lookup = FusionAuthClient(global_key, base_url)
    lookup.set_tenant_id(PIED_PIPER)
    assert lookup.retrieve_user_by_email(email).success_response["user"]["id"] == winner
