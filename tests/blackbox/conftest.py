"""The black-box tests talk to the running service through FusionAuth's official Python client,
exactly as an application would. `make test` starts the service and sets BASE_URL."""

import json
import os
import pathlib

import pytest
from fusionauth.fusionauth_client import FusionAuthClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
KICKSTART = json.loads((ROOT / "tests" / "fixtures" / "kickstart.example.json").read_text())


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("BASE_URL")
    if not url:
        pytest.fail("BASE_URL is not set: run the black-box tests with `make test`")
    return url


@pytest.fixture(scope="session")
def kickstart() -> dict:
    return KICKSTART


@pytest.fixture()
def client(base_url, kickstart) -> FusionAuthClient:
    global_key = next(k["key"] for k in kickstart["apiKeys"] if not k.get("permissions"))
    return FusionAuthClient(global_key, base_url)


@pytest.fixture()
def web_app(kickstart) -> str:
    return kickstart["applications"][0]["id"]


@pytest.fixture(scope="session")
def oidc() -> dict:
    """The relying parties' tenant and client (tests/fixtures/kickstart.oidc.json as `make test`
    loaded it, its URLs pointed at the ports served: scripts/kickstart_urls.py)."""
    path = os.environ.get("OIDC_KICKSTART")
    if not path:
        pytest.fail("OIDC_KICKSTART is not set: run the black-box tests with `make test`")
    loaded = json.loads(pathlib.Path(path).read_text())
    tenant, application = loaded["tenants"][0], loaded["applications"][0]
    return {
        "issuer": tenant["issuer"],
        "client_id": application["id"],
        "client_secret": application["oauthConfiguration"]["clientSecret"],
        "redirect_uris": application["oauthConfiguration"]["authorizedRedirectURLs"],
        "users": {u["email"]: u for u in loaded["users"]},
        "example_port": int(os.environ["EXAMPLE_PORT"]),
    }
