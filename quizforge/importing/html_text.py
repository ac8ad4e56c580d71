"""Anki field HTML to the plain text a deck file holds (stdlib html.parser only).

`<br>` and block elements become line breaks, entities are decoded, a table row becomes one
line with its cells separated by ` | `, `<sup>`/`<sub>` become Unicode super/subscripts
(`x²`, `x₁`) or, for text that has none, `^`/`_` (`e^(-x)`), `<img src="a.png">`
becomes `[image: a.png]`, `[sound:a.mp3]` becomes `[sound: a.mp3]`, scripts and styles are
dropped, soft hyphens removed and runs of spaces and blank lines collapsed. Text that is not
HTML (a CSV exported with `#html:false`) goes through `plain` instead.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from html.parser import HTMLParser

_BLOCK = {"div", "p", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "pre", "blockquote", "hr", "section", "dd", "dt"}
_SKIP = {"script", "style"}
_SOUND = re.compile(r"\[sound:([^\]]+)\]")
_CELLS = {"td", "th"}
_SUPER = dict(zip(
    "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW\u2212",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ⁻", strict=True))
# Tags a field written in Anki's editor mostly holds, exactly as the editor writes them (no
# attributes, lower case): a field made only of these is split with one regex and handed to
# the same handlers html.parser would call, without html.parser's per-character work.
_SIMPLE_TAG = re.compile(r"<(/?)(b|i|u|em|strong|sup|sub|br)>|<(br) ?/>")
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx\u2212",
                "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₋", strict=True))


@lru_cache(maxsize=1024)  # a deck's super/subscripts are a few strings: x², 10⁻³, Wᵀ...
def script(text: str, sup: bool) -> str:
    """`text` raised (sup) or lowered: in Unicode super/subscript characters when each one has
    one, else after `^`/`_` (in parentheses when longer than one character)."""
    text = text.strip()
    table = _SUPER if sup else _SUB
    if not text:
        return ""
    if table.keys() >= set(text):  # every character has one
        return "".join(table[ch] for ch in text)
    mark = "^" if sup else "_"
    return f"{mark}{text}" if len(text) == 1 else f"{mark}({text})"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[str] = []
        self._skip = 0
        self._cells = 0  # cells begun in the current table row
        self._tables = 0  # open <table> elements: whitespace between their tags is layout
        self._in_cell = False
        self._scripts: list[int] = []  # where each open <sup>/<sub> began in `parts`

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append(" " if self._in_cell else "\n")  # a table row stays one line
        elif tag == "img":
            src = dict(attrs).get("src") or ""
            self.images.append(src)
            self.parts.append(f"[image: {src}]" if src else "[image]")
        elif tag in _CELLS:
            if self._cells:
                self.parts.append(" | ")
            self._cells += 1
            self._in_cell = True
        elif tag in ("sup", "sub"):
            self._scripts.append(len(self.parts))
        elif tag == "li":
            self._break()
            self.parts.append("- ")
        elif tag in _BLOCK:
            if tag in ("tr", "table"):
                self._cells = 0
                self._in_cell = False
                self._tables += tag == "table"
            self._break()

    def _break(self) -> None:
        """A line break, unless the text already ends one (`<div>a</div><div>b</div>` is two
        lines, not three); a space inside a table cell (a table row stays one line)."""
        if self._in_cell:
            self.parts.append(" ")
        elif self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _CELLS:
            self._in_cell = False
        elif tag in ("sup", "sub") and self._scripts:
            start = self._scripts.pop()
            inner = "".join(self.parts[start:])
            del self.parts[start:]
            self.parts.append(script(inner, tag == "sup"))
        elif tag in _BLOCK:
            if tag in ("tr", "table"):
                self._cells = 0
                self._in_cell = False
                if tag == "table":
                    self._tables = max(0, self._tables - 1)
            self._break()

    def handle_data(self, data: str) -> None:
        if self._skip or self._tables and not self._in_cell and data.isspace():
            return
        self.parts.append(data)


def html_to_text(source: str) -> tuple[str, list[str]]:
    """The field as plain text, and the image files it names (in order)."""
    if "<" not in source:  # no tags: entities and spacing only (most fields, and fast)
        return tidy(html.unescape(source)), []
    text = _quick(source)
    if text is None:
        text = _simple(source)
    if text is not None:
        return tidy(text), []
    parser = _Text()
    parser.feed(source)
    parser.close()
    return tidy("".join(parser.parts)), parser.images


# `_quick`: the editor's tags replaced in C, not piece by piece. A tag dropped leaves a NUL
# where it was (taken out after the entities are decoded): html.parser decodes the text
# between two tags on its own, and no entity name holds a NUL, so `&no<b>t` stays `&not`.
_BR = re.compile(r"<br(?: ?/)?>")
_DROPPED = re.compile(r"</?(?:b|i|u|em|strong)>|</br>")
_SCRIPT = re.compile(r"<(sup|sub)>([^<&\x00]*)</\1>")


def _scripted(m: re.Match) -> str:
    return f"\x00{script(m.group(2), m.group(1) == 'sup')}\x00"


def _quick(source: str) -> str | None:
    """`_simple`'s text for the fields Anki's editor writes most (its tags not nested in a
    `<sup>`/`<sub>`, no entity inside one), by three regex substitutions and one
    `html.unescape`; None for any other field (then `_simple` reads it)."""
    if "\x00" in source:
        return None
    if "<su" in source:
        source = _SCRIPT.sub(_scripted, source)
    text = _DROPPED.sub("\x00", _BR.sub("\n", source))
    if "<" in text:
        return None
    if "&" in text:
        text = html.unescape(text)
    return text.replace("\x00", "") if "\x00" in text else text


def _simple(source: str) -> str | None:
    """The text `_Text` (html.parser) gives for a field whose tags are all `_SIMPLE_TAG`s,
    before `tidy`, worked out without a parser: text between tags entity-decoded, a line
    break for `<br>`, `<sup>`/`<sub>` through `script`, the other tags dropped (no tables,
    no images: `_Text`'s state stays as it starts). None for any other field."""
    pieces = _SIMPLE_TAG.split(source)  # text, then (slash, tag, self-closing br) per tag
    for text in pieces[::4]:
        if "<" in text:
            return None
    unescape = html.unescape
    parts: list[str] = []
    scripts: list[int] = []  # where each open <sup>/<sub> began in `parts`
    for k in range(0, len(pieces) - 1, 4):
        text, slash, tag, closed = pieces[k:k + 4]
        if text:
            parts.append(unescape(text) if "&" in text else text)
        if closed or tag == "br" and not slash:  # <br/>, <br />, <br>; </br> is nothing
            parts.append("\n")
        elif tag == "sup" or tag == "sub":
            if not slash:
                scripts.append(len(parts))
            elif scripts:
                start = scripts.pop()
                inner = "".join(parts[start:])
                del parts[start:]
                parts.append(script(inner, tag == "sup"))
    if pieces[-1]:
        parts.append(unescape(pieces[-1]))
    return "".join(parts)


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
    if _LINES.search(text):  # only then can a line change (else just the ends are stripped)
        spaces = _SPACES.sub
        lines = [spaces(" ", line).strip() for line in text.split("\n")]
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines))
    return text.strip()


_SPACES = re.compile(r"[ \t]+")
# Two spaces or a tab (collapsed), white space next to a line break (stripped from the line:
# `\s` is what str.strip() strips), a blank line (at most one kept).
_LINES = re.compile(r"  |\t|\s\n|\n\s")
_BLANK_LINES = re.compile(r"\n{3,}")


def unescape(text: str) -> str:
    return html.unescape(text)
