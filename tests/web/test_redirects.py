"""Which `next` targets sign-in may send the browser to."""

from __future__ import annotations

import pytest

from openvisit.web.redirects import login_url, safe_next


@pytest.mark.parametrize("target", ["/staff", "/staff?tab=today#top", "/a/b", "/"])
def test_local_paths_are_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "staff",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "/staff\\..\\",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\x7f",
        "https://evil.example",
        "javascript:alert(1)",
    ],
)
def test_anything_else_falls_back_to_the_default(target):
    assert safe_next(target) == "/staff"
    assert safe_next(target, default="/elsewhere") == "/elsewhere"


def test_login_url_keeps_slashes_and_encodes_the_rest():
    assert login_url("/staff") == "/login?next=/staff"
    assert login_url("/staff?a=1&b=2") == "/login?next=/staff%3Fa%3D1%26b%3D2"
