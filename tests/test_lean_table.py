"""LeanTable (quizforge/ui/lean_table.py) against rich's own Table: the same segments, text
and styles, for any table of the kind it draws itself, and rich's drawing for the rest."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text

from quizforge.ui.lean_table import LeanTable

_WORDS = st.text(alphabet=st.sampled_from(list("ab z-9%█░▌·中文,.")), max_size=14)
_STYLES = st.sampled_from(["", "bold", "dim", "red", "bold dim", "green on black", "italic"])


@st.composite
def _cell(draw):
    if draw(st.booleans()):
        return draw(_WORDS)
    text = Text(draw(_WORDS), style=draw(_STYLES),
                no_wrap=draw(st.sampled_from([None, None, True, False])))
    for _ in range(draw(st.integers(0, 2))):  # spans and appended styled pieces, as bar() makes
        text.append(draw(_WORDS), style=draw(_STYLES))
    return text


@st.composite
def tables(draw, roomy: bool = False):
    spec = {
        "padding": draw(st.tuples(st.just(0) if roomy else st.integers(0, 2), st.integers(0, 2))),
        "collapse_padding": draw(st.booleans()),
        "pad_edge": draw(st.booleans()),
        "show_header": draw(st.booleans()),
        "header_style": draw(_STYLES),
        "box": None,
        "style": draw(_STYLES),
    }
    columns = []
    for _ in range(draw(st.integers(1, 5))):
        limit = st.none() if roomy else st.one_of(st.none(), st.none(), st.integers(0, 10))
        columns.append(dict(
            header=draw(st.one_of(_WORDS, _WORDS.map(Text))),
            justify=draw(st.sampled_from(["left", "right", "center"])),
            overflow=draw(st.sampled_from(["ellipsis", "crop"])),
            no_wrap=True if roomy else draw(st.booleans()), min_width=draw(limit), max_width=draw(limit),
            header_style=draw(_STYLES), style=draw(_STYLES)))
    rows = [([draw(_cell()) for _ in columns], draw(st.one_of(st.none(), _STYLES)))
            for _ in range(draw(st.integers(0, 4)))]
    return spec, columns, rows


def build(cls, spec, columns, rows):
    table = cls(**spec)
    for column in columns:
        table.add_column(**column)
    for cells, style in rows:
        table.add_row(*(c.copy() if isinstance(c, Text) else c for c in cells), style=style)
    return table


def segments(table, width: int) -> list:
    console = Console(file=io.StringIO(), width=width, force_terminal=True,
                      color_system="truecolor", emoji=False)
    return list(console.render(table, console.options))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(made=tables(), width=st.sampled_from([4, 12, 30, 80, 80, 200, 200]))
def test_the_same_segments_as_rich(made, width):
    assert segments(build(LeanTable, *made), width) == segments(build(Table, *made), width)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(made=tables(roomy=True))
def test_the_same_segments_as_rich_for_tables_that_fit(made):
    """Mostly tables that fit and do not wrap: the ones LeanTable draws itself."""
    assert segments(build(LeanTable, *made), 200) == segments(build(Table, *made), 200)


def test_the_report_tables_are_drawn_lean(monkeypatch):
    """The report's own tables are of the kind LeanTable draws (else the speed is lost
    without a word): a mastery table at 80 columns never reaches rich's drawing."""
    from quizforge.reports.mastery import Mastery
    from quizforge.ui.report import mastery_table

    table = mastery_table([Mastery("backprop", 12, 3, 4, 5, 0, 0, 0, 2, 9, 4.5)], "deck",
                          Mastery("all", 12), detail=1)
    assert isinstance(table, LeanTable)

    def fail(*args, **kwargs):
        raise AssertionError("drawn by rich's Table")

    monkeypatch.setattr(Table, "_render", fail)
    assert segments(table, 80)


def test_what_it_does_not_draw_goes_to_rich():
    """A table that does not fit, wraps, or has a box is rich's to draw."""
    from rich import box

    wide = build(LeanTable, {"box": None}, [dict(header="h", no_wrap=True)],
                 [(["x" * 50], None)])
    assert segments(wide, 20) == segments(build(Table, {"box": None},
                                                [dict(header="h", no_wrap=True)],
                                                [(["x" * 50], None)]), 20)
    boxed = build(LeanTable, {"box": box.ROUNDED}, [dict(header="h")], [(["a b"], None)])
    assert segments(boxed, 20) == segments(build(Table, {"box": box.ROUNDED},
                                                 [dict(header="h")], [(["a b"], None)]), 20)
