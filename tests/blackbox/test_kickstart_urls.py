"""scripts/kickstart_urls.py, which `make dev` and `make test` load kickstart files through: the
loopback URLs a file names (the service on 9011, the example app on 9013) become the ports served,
and nothing else changes."""

import importlib.util
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kickstart_urls.py"


def load():
    spec = importlib.util.spec_from_file_location("kickstart_urls", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_service_and_example_origins_are_rebased_wherever_they_start_a_url():
    rebase = load().rebase
    origins = {"http://127.0.0.1:9011": "http://127.0.0.1:41000",
               "http://127.0.0.1:9013": "http://127.0.0.1:42000"}
    given = {
        "issuer": "http://127.0.0.1:9011/d7e5c1a0-3b6f-4a8e-9c2d-1f0e8b7a6c50",
        "baseURL": "http://127.0.0.1:9011",
        "urls": ["http://127.0.0.1:9013/callback", "http://127.0.0.1:9011?x=1"],
        "untouched": ["http://127.0.0.1:90111/x", "http://127.0.0.1:9011x", "https://127.0.0.1:9011/",
                      "see http://127.0.0.1:9011", 9011, None, True],
    }
    assert rebase(given, origins) == {
        "issuer": "http://127.0.0.1:41000/d7e5c1a0-3b6f-4a8e-9c2d-1f0e8b7a6c50",
        "baseURL": "http://127.0.0.1:41000",
        "urls": ["http://127.0.0.1:42000/callback", "http://127.0.0.1:41000?x=1"],
        "untouched": given["untouched"],
    }


def test_the_demo_loaded_on_other_ports_names_them_in_its_issuer_links_and_redirect_urls(tmp_path):
    target = tmp_path / "demo.json"
    subprocess.run([sys.executable, str(SCRIPT), str(ROOT / "kickstart" / "demo.json"), str(target),
                    "--service", "http://127.0.0.1:9311", "--example", "http://127.0.0.1:9313"], check=True)
    demo = json.loads(target.read_text())
    tenant, app = demo["tenants"][0], demo["applications"][0]
    assert tenant["issuer"] == f"http://127.0.0.1:9311/{tenant['id']}"
    assert tenant["baseURL"] == app["baseURL"] == "http://127.0.0.1:9311"
    assert "http://127.0.0.1:9313/callback" in app["oauthConfiguration"]["authorizedRedirectURLs"]
    assert app["oauthConfiguration"]["logoutURL"] == "http://127.0.0.1:9313/signed-out"
    assert "9011" not in target.read_text() and "9013" not in target.read_text()
