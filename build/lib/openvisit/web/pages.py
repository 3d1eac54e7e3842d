"""Placeholder router; the sign-in pages are added in web/auth_pages.py."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
