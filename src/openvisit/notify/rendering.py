"""Messages rendered from editable templates: e-mail (subject, text, HTML) and SMS.

The templates ship in `notify/templates/`; a file of the same name under the data
folder's `templates/` (say `<data>/templates/email/confirmation.jinja`) wins, so a
business rewords a message without touching the package, and an upgrade never
overwrites its edits. Jinja re-reads a changed file, so an edit needs no restart.

An e-mail kind is one file, `email/<kind>.jinja`, that fills the blocks `subject`,
`heading` and `intro` and extends `layout`: rendered once over `email/layout.txt` (the
text part, nothing escaped) and once over `email/layout.html` (the HTML part, everything
escaped), so the two parts never say different things. An SMS kind is `sms/<kind>.txt`.
Every text goes through gettext, domain `messages`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from openvisit import i18n
from openvisit.notify import sms_text
from openvisit.notify.content import MessageContent
from openvisit.notify.meeting_texts import MeetingText

PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
TEXT_LAYOUT = "email/layout.txt"
HTML_LAYOUT = "email/layout.html"
# Longer texts cost more and some phones show them late; the manage link always fits.
SMS_MAX_SEGMENTS = 3
_BLANK_LINES = re.compile(r"\n{3,}")
# Line breaks and runs of spaces, but not the narrow no-break space CLDR puts before "PM".
_HEADER_BREAKS = re.compile(r"[\r\n\t ]+")


class MissingTemplate(LookupError):
    """No template for this kind of message (in the data folder or the package)."""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Templates:
    """Where templates are looked up: `override` (the data folder's) before the package's."""

    override: Path | None = None

    def email(self, content: MessageContent) -> RenderedEmail:
        name = f"email/{content.kind}.jinja"
        text_template = self._template(name, content.language, plain_text=True)
        html_template = self._template(name, content.language, plain_text=False)
        context = {"c": content, "layout": TEXT_LAYOUT}
        subject = "".join(text_template.blocks["subject"](text_template.new_context(context)))
        return RenderedEmail(
            # One line, whatever the template's layout: a header cannot hold a newline.
            subject=_HEADER_BREAKS.sub(" ", subject).strip(),
            text=_tidy(text_template.render(context)),
            html=html_template.render(c=content, layout=HTML_LAYOUT),
        )

    def sms(self, content: MessageContent) -> str:
        template = self._template(f"sms/{content.kind}.txt", content.language, plain_text=True)
        text = sms_text.plain_punctuation(" ".join(template.render(c=content).split()))
        # The join link of an online visit, the manage link, or after a cancellation the
        # page to book again: never shortened, whatever the text needs.
        links = [content.join_url, content.manage_url or content.booking_url]
        keep = "".join(f"\n{link}" for link in links if link)
        return sms_text.fit(text, SMS_MAX_SEGMENTS, keep=keep)

    def meeting_sms(self, text: MeetingText) -> str:
        """A text about an online meeting (meetings/sms.py), its join link kept whole."""
        template = self._template(f"sms/{text.kind}.txt", text.language, plain_text=True)
        body = sms_text.plain_punctuation(" ".join(template.render(c=text).split()))
        keep = f"\n{text.join_url}" if text.join_url else ""
        return sms_text.fit(body, SMS_MAX_SEGMENTS, keep=keep)

    def _template(self, name: str, language: str, *, plain_text: bool) -> jinja2.Template:
        folders = (str(self.override),) if self.override else ()
        try:
            return _environment(folders, language, plain_text).get_template(name)
        except jinja2.TemplateNotFound as missing:
            raise MissingTemplate(f"no template {name}") from missing


@functools.cache
def _environment(folders: tuple[str, ...], language: str, plain_text: bool) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader([*folders, str(PACKAGED_TEMPLATES)])]
    return i18n.jinja_environment(loaders, language, "messages", plain_text=plain_text)


def _tidy(text: str) -> str:
    lines = [line.rstrip() if line != "-- " else line for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
