"""Screens that keep their shape where ambiguous-width characters take two cells.

Many CJK terminal set-ups (a zh-TW, ja or ko locale; "ambiguous characters are wide" in
iTerm2, Windows Terminal, PuTTY, VTE) draw East Asian *ambiguous* characters two cells wide:
the Greek letters and math symbols of every card (σ, α, ∂, −, ·, ², ≈, →), and the box-drawing
characters of every border. Rich counts them as one cell, so a box is twice as wide as meant,
its right edge lands k cells too far on each line that holds k such symbols, and a line that
exactly fits wraps.

`AmbiguousWide(renderable)` renders as rich would, draws the borders in ASCII (`+-|`, one cell
everywhere), then takes k cells of padding (spaces, or the `-` of a border) back out of each
line just before its right border, so every line's
right edge is where rich meant it, counted as such a terminal counts; where a line has no room
to give, it renders again a little narrower. `ambiguous_is_wide` decides from the setting
`ambiguous_width` (auto: wide in a CJK locale).
"""

from __future__ import annotations

import os
import unicodedata
from copy import copy
from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment

CJK_LOCALES = ("zh", "ja", "ko")


def _ascii_box(code: int) -> str:
    name = unicodedata.name(chr(code), "")
    if "HORIZONTAL" in name and "VERTICAL" not in name:
        return "-"
    if "VERTICAL" in name and "HORIZONTAL" not in name:
        return "|"
    return "+"


# Box-drawing characters are ambiguous too: such a terminal draws a rich border two cells per
# character. Borders are drawn in ASCII instead, which every terminal draws one cell wide.
ASCII_BOX = {code: _ascii_box(code) for code in range(0x2500, 0x2580)}
_BORDER = "|+"  # a right border or corner, once in ASCII
_PAD = " -"  # what may be taken out before it


def ambiguous_is_wide(setting: str, environ=os.environ) -> bool:
    """Whether to draw for a terminal that shows ambiguous characters two cells wide:
    `setting` is "1", "2" or "auto" (wide when the locale is Chinese, Japanese or Korean)."""
    if setting in ("1", "2"):
        return setting == "2"
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(name)
        if value:
            return value.lower().startswith(CJK_LOCALES)
    return False


def _extra(ch: str) -> int:
    return 1 if ord(ch) > 0x7E and unicodedata.east_asian_width(ch) == "A" \
        and cell_len(ch) == 1 else 0


def wide_len(text: str) -> int:
    """Cells `text` takes in a terminal that draws ambiguous characters two cells wide."""
    return cell_len(text) + sum(_extra(ch) for ch in text)


def _fit_line(line: list[Segment], width: int) -> list[Segment] | None:
    """The line with its extra cells taken out of the padding before its right border (or
    its trailing padding), or None when it has too little padding to give."""
    chars = [(ch, seg.style) for seg in line if not seg.control
             for ch in seg.text.translate(ASCII_BOX)]
    text = "".join(ch for ch, _ in chars)
    extra = wide_len(text) - cell_len(text)
    if extra == 0:
        return _segments(chars) if cell_len(text) <= width else None
    end = len(chars)
    while end and chars[end - 1][0] == " ":
        end -= 1
    border = end and chars[end - 1][0] in _BORDER
    if border:  # take the cells from the run of padding just before the border
        start = end - 1
        run = chars[start - 1][0] if start else " "
        take = []
        i = start - 1
        while i >= 0 and chars[i][0] == run and run in _PAD and len(take) < extra:
            take.append(i)
            i -= 1
        if len(take) < extra:
            return None
        kept = [c for j, c in enumerate(chars) if j not in set(take)]
    else:  # no border: its trailing padding (spaces, a rule's dashes), then it must fit
        cut = len(chars)
        while cut > len(chars) - extra and cut and chars[cut - 1][0] in _PAD:
            cut -= 1
        kept = chars[:cut]
    if wide_len("".join(ch for ch, _ in kept)) > width:
        return None
    return _segments(kept)


def _segments(chars: list[tuple[str, object]]) -> list[Segment]:
    out: list[Segment] = []
    for ch, style in chars:
        if out and out[-1].style == style:
            out[-1] = Segment(out[-1].text + ch, style)
        else:
            out.append(Segment(ch, style))
    return out


class AmbiguousWide:
    """A renderable drawn for terminals that show ambiguous characters two cells wide."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.padding import Padding
        from rich.panel import Panel

        width = options.max_width
        renderable, room, target = self.renderable, 0, width
        fitted: list[list[Segment]] | None = None
        for _ in range(8):
            lines = console.render_lines(renderable, options.update_width(target),
                                         pad=False, new_lines=False)
            tried = [_fit_line(line, width) for line in lines]
            if all(t is not None for t in tried):
                fitted = tried  # type: ignore[assignment]
                break
            # Too little padding before a right border: give the box's text that much more
            # room on its right (rich wraps it narrower), or wrap plain lines narrower.
            need = max(_extra_cells(_text(line)) for line, t in zip(lines, tried, strict=True)
                       if t is None)
            if room + (width - target) >= width // 2:
                break
            if isinstance(self.renderable, Panel):
                room += max(1, need // 2)
                renderable = copy(self.renderable)
                renderable.renderable = Padding(self.renderable.renderable, (0, room, 0, 0))
            else:  # lines of text: wrap them narrower
                target -= max(1, need)
        if fitted is None:  # as rich drew it, in ASCII
            fitted = [[Segment(s.text.translate(ASCII_BOX), s.style) for s in line]
                      for line in lines]
        for line in fitted:
            yield from line
            yield Segment.line()


def _extra_cells(text: str) -> int:
    return wide_len(text) - cell_len(text)


def _text(line: list[Segment]) -> str:
    return "".join(s.text for s in line if not s.control).translate(ASCII_BOX)


def wrap_all(objects: Iterable[object], console: Console, **kw) -> tuple[object, ...]:
    """`console.print`'s objects, each drawn by AmbiguousWide (text as print would make it)."""
    out = []
    for o in objects:
        if isinstance(o, str):
            o = console.render_str(o, markup=kw.get("markup"), highlight=kw.get("highlight"),
                                   emoji=kw.get("emoji"))
        out.append(AmbiguousWide(o))
    return tuple(out)
