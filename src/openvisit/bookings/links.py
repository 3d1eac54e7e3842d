"""Links to the public booking pages, built from the base URL in force when they are read.

Nothing here is stored: a server that moves behind a TLS proxy, or to another host or
port, hands out its new address at once, also for businesses published before the move.
"""

from __future__ import annotations

from openvisit import consumer_links


def business_page_url(base_url: str, business_id: str) -> str:
    """A published business's booking page (Graph's `publicUrl`)."""
    return consumer_links.business_page_url(base_url, business_id)


def service_page_url(base_url: str, business_id: str, service_id: str) -> str:
    """A service's own booking page (Graph's `webUrl`)."""
    return f"{business_page_url(base_url, business_id)}services/{service_id}"
