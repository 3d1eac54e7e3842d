"""axe-core (vendored from the npm registry) run in a page: its serious and critical
violations, as lines a failing assertion prints."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_PATH = "/__tests__/axe.min.js"  # no such route: the browser test answers it
BLOCKING = ("serious", "critical")


def serve_axe(page: Page) -> None:
    """Answer AXE_PATH from the vendored file on every origin the page visits.

    The pages' CSP refuses inline scripts (add_script_tag(path=...) injects one), so the
    browser fetches axe from the page's own origin: the policy stays on, and any violation
    it reports still fails the test.
    """
    page.route(f"**{AXE_PATH}", lambda route: route.fulfill(path=AXE))


def blocking_violations(page: Page, step: str) -> list[str]:
    origin = re.match(r"https?://[^/]+", page.url)
    assert origin, page.url
    page.add_script_tag(url=origin.group(0) + AXE_PATH)
    results: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{step}: {violation['id']} {[node['target'] for node in violation['nodes']]}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]
