"""docs/deploy.md's nginx recipe, run for real: Debian's nginx terminates TLS with a
self-signed certificate in front of `openvisit serve --demo`, and every link the API
returns names the proxy's https:// address.

The nginx server blocks come from the page itself, so the recipe people copy is the one
tested; only the host name, ports and certificate paths are swapped for loopback ones.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import websockets.exceptions
import websockets.sync.client
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
NGINX = "/usr/sbin/nginx"  # Debian's; scripts/ensure-nginx installs it
HOST = "127.0.0.1"
START_SECONDS = 30
DEMO_BUSINESS = "contosohealth@openvisit.local"


def doc_block(language: str, containing: str = "") -> str:
    """The first ``` block of `language` in docs/deploy.md that holds `containing`."""
    blocks = re.findall(rf"```{language}\n(.*?)```", DEPLOY_DOC.read_text(encoding="utf-8"), re.S)
    found = [block for block in blocks if containing in block]
    assert found, f"docs/deploy.md has no {language} block with {containing!r}"
    return str(found[0])


def documented_settings() -> dict[str, str]:
    """The OPENVISIT_* lines of the page's settings file (comments left out)."""
    lines = doc_block("sh", "OPENVISIT_BASE_URL=").splitlines()
    pairs = (line.split("=", 1) for line in lines if line.startswith("OPENVISIT_"))
    return dict(pairs)


def site_config(*, upstream: int, http: int, https: int, cert: Path, key: Path) -> str:
    """The documented site, moved to loopback ports and the test's certificate."""
    site = doc_block("nginx")
    swaps = {
        "server 127.0.0.1:8000;": f"server {HOST}:{upstream};",
        "listen 80;": f"listen {HOST}:{http};",
        "listen 443 ssl http2;": f"listen {HOST}:{https} ssl http2;",
        "/etc/letsencrypt/live/visits.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/visits.example.org/privkey.pem": str(key),
        "server_name visits.example.org;": f"server_name {HOST};",
    }
    for documented, local in swaps.items():
        assert documented in site, f"docs/deploy.md's nginx block lost {documented!r}"
        site = site.replace(documented, local)
    assert "example.org" not in site
    return site


def main_config(site: str, folder: Path) -> str:
    """What /etc/nginx/nginx.conf provides around a site, kept inside `folder`."""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would switch to `nobody`, who cannot enter pytest's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n{site}\n}}\n"
    )


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Deployment:
    base_url: str  # the proxy's https:// address, as OPENVISIT_BASE_URL says
    http_url: str  # nginx's plain-HTTP listener, which redirects
    demo_output: str
    token: str
    client: httpx.Client
    tls: ssl.SSLContext  # trusts the proxy's certificate


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        output = log.read_text(encoding="utf-8", errors="replace")
        if text in output:
            return output
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# One deployment for the module: starting the server and nginx is most of the cost.
@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp_path = tmp_path_factory.mktemp("deploy")
    upstream, http, https = free_port(), free_port(), free_port()
    base_url = f"https://{HOST}:{https}"
    cert, key = self_signed(tmp_path)
    site = site_config(upstream=upstream, http=http, https=https, cert=cert, key=key)
    (tmp_path / "nginx.conf").write_text(main_config(site, tmp_path), encoding="utf-8")
    # Only the settings the recipe asks for: the caller's OPENVISIT_* must not leak in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENVISIT_")}
    env |= documented_settings() | {
        "OPENVISIT_DATA_DIR": str(tmp_path / "data"),
        "OPENVISIT_BASE_URL": base_url,
        "OPENVISIT_PORT": str(upstream),
        "OPENVISIT_PAGE_SIZE": "1",  # so that a collection carries @odata.nextLink
    }
    server_log = tmp_path / "server.log"
    with server_log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "openvisit", "serve", "--demo"],
            cwd=tmp_path,  # no .env from the checkout
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    with (tmp_path / "nginx.log").open("wb") as sink:
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", "stderr"],
            stderr=sink,
        )
    try:
        output = _wait_for(server_log, "Application startup complete", server)
        assert nginx.poll() is None, (tmp_path / "nginx.log").read_text()
        context = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=context, timeout=10) as client:
            yield Deployment(
                base_url=base_url,
                http_url=f"http://{HOST}:{http}",
                demo_output=output,
                token=re.findall(r"^ovt_\S+$", output, re.M)[-1],
                client=client,
                tls=context,
            )
    finally:
        _stop(nginx, signal.SIGQUIT)  # graceful: finish open requests, then exit
        _stop(server, signal.SIGTERM)


def test_links_through_the_tls_proxy_are_https_with_the_proxys_host(deployment):
    base, client = deployment.base_url, deployment.client
    headers = {"Authorization": f"Bearer {deployment.token}"}
    business_url = f"{base}/v1.0/solutions/bookingBusinesses/{DEMO_BUSINESS}"

    business = client.get(business_url, headers=headers)
    first = client.get(f"{business_url}/services?$count=true", headers=headers).json()
    assert first["@odata.nextLink"].startswith(f"{base}/v1.0/solutions/bookingBusinesses/")
    second = client.get(first["@odata.nextLink"], headers=headers).json()

    assert business.status_code == 200
    assert business.headers["strict-transport-security"] == "max-age=63072000"
    assert business.json()["publicUrl"] == f"{base}/book/{DEMO_BUSINESS}/"
    assert business.json()["@odata.context"].startswith(f"{base}/v1.0/$metadata#")
    assert first["@odata.count"] == 3
    assert second["value"][0]["id"] != first["value"][0]["id"]
    for service in first["value"] + second["value"]:
        assert service["webUrl"].startswith(f"{base}/book/{DEMO_BUSINESS}/services/")


def test_demo_output_names_the_proxy_address(deployment):
    assert f"API:             {deployment.base_url}/v1.0/solutions/bookingBusinesses/" in (
        deployment.demo_output
    )
    assert f"Staff sign-in:   {deployment.base_url}/login" in deployment.demo_output
    assert deployment.client.get(f"{deployment.base_url}/login").status_code == 200


def test_plain_http_is_redirected_to_https(deployment):
    response = deployment.client.get(f"{deployment.http_url}/healthz")

    assert response.status_code == 301
    assert response.headers["location"] == f"https://{HOST}/healthz"


def test_the_visits_websocket_is_upgraded_through_the_proxy(deployment):
    # A join link that is not valid: the server itself answers, so the upgrade went through.
    url = deployment.base_url.replace("https://", "wss://") + "/realtime/v1"
    with websockets.sync.client.connect(url, ssl=deployment.tls, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "hello", "v": 1, "join": "not-a-token"}))
        frame = json.loads(socket.recv(timeout=10))
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            socket.recv(timeout=10)

    assert frame["type"] == "error"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
