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
