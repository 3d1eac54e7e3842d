"""Every text a consumer can read is translated into every shipped language.

The texts are extracted from the code and templates as scripts/translations does, so a
new text with no German translation, or a catalog entry no code uses any more, fails
here instead of showing English on a German page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from openvisit import i18n

SOURCE = Path(i18n.__file__).parent
FOLDERS: dict[i18n.Domain, Path] = {"pages": SOURCE / "web", "messages": SOURCE / "notify"}
METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.jinja", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]
OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n"},
    "**/templates/**.jinja": {"extensions": "jinja2.ext.i18n"},
    "**/templates/**.txt": {"extensions": "jinja2.ext.i18n", "autoescape": "false"},
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def extracted(domain: i18n.Domain) -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        FOLDERS[domain], METHODS, OPTIONS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(language: str, domain: i18n.Domain):
    with (i18n.LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as source:
        return read_po(source, locale=language)


TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_has_a_translation(language, domain):
    entries = {message.id: message for message in catalog(language, domain) if message.id}
    ids = {entry if isinstance(entry, str) else entry[0] for entry in entries}
    missing = sorted(extracted(domain) - ids)
    assert not missing, f"run scripts/translations, then translate: {missing}"
    untranslated = sorted(
        str(message.id)
        for message in entries.values()
        if not message.string
        or (isinstance(message.string, tuple) and not all(message.string))
        or message.fuzzy
    )
    assert not untranslated, f"{language}/{domain}.po lacks translations for {untranslated}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("language", TRANSLATED)
def test_no_catalog_entry_outlives_its_text(language, domain):
    ids = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog(language, domain)
        if message.id
    }
    stale = sorted(ids - extracted(domain))
    assert not stale, f"run scripts/translations to drop texts no code uses: {stale}"


def test_negotiation_prefers_the_choice_then_the_browser_then_the_business():
    assert i18n.negotiate(chosen="de", accept_language="en-US", default="en") == "de"
    assert i18n.negotiate(accept_language="fr-CH, de;q=0.8, en;q=0.5", default="en") == "de"
    assert i18n.negotiate(accept_language="en;q=0.2, de-AT;q=0.9") == "de"
    assert i18n.negotiate(accept_language="de;q=0, fr", default="de-DE") == "de"
    assert i18n.negotiate(accept_language="fr, es", default="en-GB") == "en"
    assert i18n.negotiate(accept_language="de;q=0", default=None) == "en"
    assert i18n.negotiate(accept_language="x" * 2000, default="de") == "de"
    assert i18n.negotiate(chosen="klingon") == "en"


def test_dates_follow_the_language_and_the_readers_zone():
    instant = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    kolkata = ZoneInfo("Asia/Kolkata")
    assert i18n.format_time(instant, kolkata, "de") == "19:30"
    assert i18n.format_time(instant, ZoneInfo("America/New_York"), "en") == "9:00\u202fAM"
    assert i18n.format_date(instant, kolkata, "de") == "Montag, 7. Dezember 2026"
    assert i18n.zone_label(kolkata, "en", at=instant) == "Kolkata (UTC+05:30)"
