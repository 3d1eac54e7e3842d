"""Languages of everything a consumer reads: pages, e-mail and SMS.

Texts are written in English in the code and templates and marked for gettext; German
(and any later language) comes from a catalog `locales/<lang>/LC_MESSAGES/<domain>.po`.
Two domains keep the two audiences' texts apart: `pages` (web/) and `messages`
(notify/: e-mail and SMS). The .po files are the only form kept in the repository; they
are compiled in memory on first use, so nothing binary is committed and an edited
catalog needs no build step, only a restart.

`negotiate` picks the language for one reader: an explicit choice (a switcher, a stored
preference) first, then the browser's Accept-Language, then the business's languageTag,
then English. Dates and times are formatted by Babel (CLDR) for the language and in the
zone the reader sees, never the server's.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Literal

import jinja2
from babel import Locale, UnknownLocaleError, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"
# Every language shipped complete; tests/test_translations.py holds each catalog to that.
LANGUAGES: tuple[str, ...] = ("en", "de")
Domain = Literal["pages", "messages"]
DOMAINS: tuple[Domain, ...] = ("pages", "messages")
# What each language calls itself, for a language switcher.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
MAX_ACCEPT_LANGUAGE = 1024


def supported(tag: str | None) -> str | None:
    """The shipped language a BCP 47 tag asks for (`de-AT` -> `de`), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(
    *, chosen: str | None = None, accept_language: str | None = None, default: str | None = None
) -> str:
    """The language to use: `chosen`, else the best of Accept-Language, else `default`."""
    for candidate in (chosen, *_accepted(accept_language), default):
        language = supported(candidate)
        if language is not None:
            return language
    return SOURCE_LANGUAGE


def _accepted(header: str | None) -> list[str]:
    """Accept-Language tags, best first (RFC 9110 quality values; q=0 means "not this")."""
    if not header or len(header) > MAX_ACCEPT_LANGUAGE:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _quality, _position, tag in sorted(weighted)]


@functools.cache
def translations(language: str, domain: Domain) -> NullTranslations:
    """The compiled catalog of `domain` in `language`; the source texts for English."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if language == SOURCE_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


@functools.cache
def locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE_LANGUAGE)


def format_datetime(
    value: datetime,
    zone: tzinfo,
    language: str,
    *,
    width: Literal["full", "long", "medium", "short"] = "full",
) -> str:
    """Date and time of `value` as a reader of `language` in `zone` writes them."""
    return dates.format_datetime(value, format=width, tzinfo=zone, locale=locale(language))


def format_date(
    value: datetime,
    zone: tzinfo,
    language: str,
    *,
    width: Literal["full", "long", "medium", "short"] = "full",
) -> str:
    return dates.format_date(value.astimezone(zone), format=width, locale=locale(language))


def format_time(value: datetime, zone: tzinfo, language: str) -> str:
    return dates.format_time(value, format="short", tzinfo=zone, locale=locale(language))


def zone_label(zone: tzinfo, language: str, *, at: datetime) -> str:
    """A zone as people read it, with its UTC offset at `at`: "Berlin (UTC+01:00)"."""
    place = dates.get_timezone_location(zone, locale=locale(language), return_city=True)
    offset = dates.get_timezone_gmt(at.astimezone(zone), width="iso8601", locale=locale("en"))
    return f"{place} (UTC{offset})"


def jinja_environment(
    loaders: Iterable[jinja2.BaseLoader],
    language: str,
    domain: Domain,
    *,
    plain_text: bool = False,
) -> jinja2.Environment:
    """An autoescaping Jinja2 environment whose {% trans %} and _() speak `language`.

    One environment per language and use (callers cache them): gettext is bound at build
    time, so concurrent requests in two languages never share a translation. A
    `plain_text` environment (the text part of an e-mail, an SMS) escapes nothing and
    drops the newline after a block tag, so templates can be laid out readably.
    """
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(list(loaders)),
        # Plain text is never read as HTML (a text/plain part, an SMS), so there is
        # nothing to escape; the HTML part of the same message has its own environment.
        autoescape=not plain_text,  # noqa: S701
        trim_blocks=plain_text,
        lstrip_blocks=plain_text,
        keep_trailing_newline=plain_text,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]  # added by the i18n extension
        translations(language, domain), newstyle=True
    )
    environment.globals["language"] = language
    return environment
