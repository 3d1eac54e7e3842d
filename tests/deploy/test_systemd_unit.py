"""docs/deploy.md's systemd unit is one systemd accepts, and it starts the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.deploy.test_nginx import doc_block

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"  # Debian's systemd; scripts/ensure-nginx
DOCUMENTED_COMMAND = "/opt/openvisit/.venv/bin/openvisit"


def test_systemd_accepts_the_documented_unit(tmp_path: Path):
    unit = doc_block("ini", "[Service]")
    assert f"ExecStart={DOCUMENTED_COMMAND} serve\n" in unit
    # The checkout this test runs from stands in for /opt/openvisit.
    command = Path(sys.executable).with_name("openvisit")
    path = tmp_path / "openvisit.service"
    path.write_text(unit.replace(DOCUMENTED_COMMAND, str(command)), encoding="utf-8")

    verified = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    # verify exits 0 on unknown keys too; it names them on stderr.
    assert (verified.returncode, verified.stderr) == (0, "")
