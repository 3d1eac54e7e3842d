"""The headers a stored file is served with, by the API and by the consumer's pages alike.

A document is whatever someone uploaded, so it is never shown inside our origin: it is
always an attachment (saved, not opened in the page), carries the type its content was
found to be with `nosniff` (no browser second-guesses it into HTML), and a
`Content-Security-Policy: sandbox` in case a browser renders it anyway, so no script in
it runs with our origin's cookies. Nothing keeps a copy (`no-store`): these are personal.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from starlette.responses import StreamingResponse

from openvisit.bookings.document_rows import DocumentContent

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()+-]")


def attachment_headers(
    file_name: str, content_type: str, size: int, sha256: str | None
) -> dict[str, str]:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(size),
        "Content-Disposition": content_disposition(file_name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store",
    }
    if sha256:
        headers["ETag"] = f'"{sha256}"'
    return headers


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 6266 form."""
    ascii_name = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_ASCII.sub("_", ascii_name).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def document_response(content: DocumentContent) -> StreamingResponse:
    """Stream an opened document as an attachment with the headers above."""
    document = content.document
    headers = attachment_headers(
        document.file_name,
        document.content_type or "application/octet-stream",
        document.size_bytes or 0,
        document.sha256,
    )
    media_type = headers.pop("Content-Type")
    return StreamingResponse(content.chunks(), media_type=media_type, headers=headers)
