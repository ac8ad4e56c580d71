"""Anki field HTML to the plain text a deck file holds (stdlib html.parser only).

`<br>` and block elements become line breaks, entities are decoded, `<img src="a.png">`
becomes `[image: a.png]`, `[sound:a.mp3]` becomes `[sound: a.mp3]`, scripts and styles are
dropped, soft hyphens removed and runs of spaces and blank lines collapsed. Text that is not
HTML (a CSV exported with `#html:false`) goes through `plain` instead.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK = {"div", "p", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "pre", "blockquote", "hr", "section", "dd", "dt"}
_SKIP = {"script", "style"}
_SOUND = re.compile(r"\[sound:([^\]]+)\]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            src = dict(attrs).get("src") or ""
            self.images.append(src)
            self.parts.append(f"[image: {src}]" if src else "[image]")
        elif tag == "li":
            self._break()
            self.parts.append("- ")
        elif tag in _BLOCK:
            self._break()

    def _break(self) -> None:
        """A line break, unless the text already ends one (`<div>a</div><div>b</div>` is two
        lines, not three)."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(source: str) -> tuple[str, list[str]]:
    """The field as plain text, and the image files it names (in order)."""
    if "<" not in source:  # no tags: entities and spacing only (most fields, and fast)
        return tidy(html.unescape(source)), []
    parser = _Text()
    parser.feed(source)
    parser.close()
    return tidy("".join(parser.parts)), parser.images


def plain(source: str) -> tuple[str, list[str]]:
    """A field that is not HTML: only tidied."""
    return tidy(source), []


def tidy(text: str) -> str:
    """Line breaks normalised, soft hyphens dropped, spaces collapsed, at most one blank
    line in a row, ends stripped (each step only when the text needs it: this runs on
    every field of a 10,000-note deck)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\xad" in text or "\xa0" in text:
        text = text.replace("\xad", "").replace("\xa0", " ")
    if "[sound:" in text:
        text = _SOUND.sub(lambda m: f"[sound: {m.group(1)}]", text)
    if "  " in text or "\t" in text or "\n" in text:
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip()


def unescape(text: str) -> str:
    return html.unescape(text)
