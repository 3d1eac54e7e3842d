"""Every response says nosniff; HTML carries a Content-Security-Policy; /docs is served
from vendored files (no CDN) that the package ships."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.factories import BUSINESSES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "openvisit"
VENDOR = PACKAGE / "web" / "static" / "vendor" / "swagger-ui"


@pytest.mark.parametrize(
    ("method", "path", "signed", "status"),
    [
        ("GET", "/healthz", False, 200),
        ("GET", "/openapi.json", False, 200),
        ("GET", BUSINESSES, False, 401),
        ("GET", BUSINESSES, True, 200),
        ("GET", f"{BUSINESSES}/nobody@openvisit.test", True, 404),
        ("GET", "/v1.0/no/such/path", False, 404),
        ("DELETE", "/healthz", False, 405),
        ("GET", "/static/openvisit.css", False, 200),
        ("GET", "/login", False, 200),
        ("GET", "/docs", False, 200),
    ],
)
def test_every_response_carries_nosniff(client, auth, method, path, signed, status):
    response = client.request(method, path, headers=auth if signed else {})

    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/login", "/docs"])
def test_html_pages_carry_a_policy_without_inline_scripts(client, path):
    response = client.get(path)
    policy = response.headers["content-security-policy"]

    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.text  # only <script src=...>, which 'self' allows


def test_api_docs_load_only_our_own_files(client):
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)

    assert assets, page
    assert [asset for asset in assets if not asset.startswith("/static/")] == []
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        kind = "text/css" if asset.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(kind)
    assert "openapi.json" in client.get("/static/api-docs.js").text


def test_the_vendored_swagger_ui_ships_with_its_licence():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["openvisit"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file()}

    vendored = {path for path in VENDOR.iterdir() if path.is_file()}
    names = {path.name for path in vendored}

    assert {"LICENSE", "NOTICE", "README.md", "swagger-ui-bundle.js", "swagger-ui.css"} <= names
    assert "Apache License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "swagger-ui-dist 5.35.0" in (VENDOR / "README.md").read_text(encoding="utf-8")
    assert vendored <= shipped
    assert PACKAGE / "web" / "templates" / "api_docs.html" in shipped
