"""A rich Table that draws the report's plain tables without rich's per-cell machinery.

rich draws each cell of a Table through a Padding, a measure and a full render pass; the
report's tables (no box, one line per cell, no wrapping, columns that fit) spend most of
the report's drawing there. `LeanTable` draws such a table with the same calls rich makes
for one cell of one line (Text.wrap, Text.render and Segment's crop, pad and style), in
the same order, so the segments come out the same; any other table, or one that does not
fit the width it is given, is drawn by rich's Table itself. tests/test_lean_table.py
compares the two, segment for segment, on the report's tables and on random ones.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

_JUSTIFY = ("left", "right", "center")
_OVERFLOW = ("ellipsis", "crop")


class LeanTable(Table):
    """A Table (same arguments) drawn without rich's per-cell render pass when it can."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._lean_widths(console, options) if self._lean_shape() else None
        if widths is None:
            yield from super().__rich_console__(console, options)
            return
        yield from self._lean_render(console, options, widths)

    def _lean_shape(self) -> bool:
        """The table and its cells are of the kind drawn here: no box (so no border style),
        title or caption, no footer, lines or leading, no vertical padding or row styles
        cycling, no expanding or set width; columns of no fixed width or ratio, aligned
        at the top; every cell a Text of one line or a str with nothing rich would parse
        as markup. (_lean_widths adds: the table fits, and no cell wraps.)"""
        top, _, bottom, _ = self.padding
        if (self.box is not None or self.title or self.caption or self.show_footer
                or self.show_lines or self.leading or top or bottom or self.row_styles
                or self.highlight or self.expand or self.width is not None
                or self.min_width is not None):
            return False
        for column in self.columns:
            if (column.width is not None or column.ratio is not None
                    or column.vertical != "top" or column.highlight
                    or column.justify not in _JUSTIFY or column.overflow not in _OVERFLOW):
                return False
            for cell in (column.header, *column._cells):
                if isinstance(cell, Text):
                    plain = cell.plain
                    if (cell.justify or cell.overflow
                            or cell.tab_size is not None or cell.end != "\n"):
                        return False
                elif isinstance(cell, str):
                    plain = cell
                    if "[" in cell or ":" in cell:
                        return False
                else:
                    return False
                if "\n" in plain or "\t" in plain or "\r" in plain:
                    return False
        return True

    def _lean_widths(self, console: Console, options: ConsoleOptions) -> list[int] | None:
        """The columns' widths as rich's Table finds them when the table fits: each
        column's natural width (at least 1); None when it does not fit."""
        from quizforge.ui.report import _column_width

        extra = self._extra_width
        inner = options.update_width(options.max_width - extra)
        if inner.max_width < 1:
            return None
        widths = [_column_width(console, inner, self, column) or 1 for column in self.columns]
        if sum(widths) > inner.max_width:
            return None
        pads = self._lean_pads()
        if any(w - left - right < 1 for w, (left, right) in zip(widths, pads)):
            return None  # no room for a cell's text: rich's Padding draws no line at all
        for column, width, (left, right) in zip(self.columns, widths, pads):
            for cell in (column.header, *column._cells):
                text = cell if isinstance(cell, Text) else Text(cell)
                wraps = not (column.no_wrap if text.no_wrap is None else text.no_wrap)
                if wraps and cell_len(text.plain) > width - left - right:
                    return None  # a cell that would wrap onto more lines: rich draws it
        return widths

    def _lean_pads(self) -> list[tuple[int, int]]:
        """Each column's (left, right) padding, as Table._get_cells gives a cell of it."""
        _, right_pad, _, left_pad = self.padding
        last = len(self.columns) - 1
        pads = []
        for index in range(len(self.columns)):
            left, right = left_pad, right_pad
            if self.collapse_padding and index:
                left = max(0, left - right)
            if not self.pad_edge:
                left = 0 if index == 0 else left
                right = 0 if index == last else right
            pads.append((left, right))
        return pads

    def _lean_render(self, console: Console, options: ConsoleOptions,
                     widths: list[int]) -> RenderResult:
        get_style = console.get_style
        null = Style.null()
        pad_style = get_style("none")
        columns = self.columns
        pads = self._lean_pads()
        rows: list[tuple[Style, list[tuple[Style, Text | str]]]] = []
        if self.show_header:
            header_style = get_style(self.header_style or "")
            rows.append((null, [(header_style + get_style(c.header_style), c.header)
                                for c in columns]))
        cell_styles = [get_style(c.style or "") for c in columns]
        for index, row in enumerate(self.rows):
            row_style = get_style(self.get_row_style(console, index))
            rows.append((row_style, [(cell_styles[k], cell)
                                     for k, cell in enumerate(c._cells[index] for c in columns)]))
        new_line = Segment.line()
        for row_style, cells in rows:
            for k, (cell_style, cell) in enumerate(cells):
                column, width = columns[k], widths[k]
                left, right = pads[k]
                text = Text(cell) if isinstance(cell, str) else cell
                inner = width - left - right
                # Padding.__rich_console__: the text at the inner width, padded, its pads
                lines = text.wrap(console, inner, justify=column.justify,
                                  overflow=column.overflow, tab_size=console.tab_size or 8,
                                  no_wrap=column.no_wrap if text.no_wrap is None else text.no_wrap)
                body = Text("\n").join(lines).render(console, end=text.end)
                line = next(Segment.split_and_crop_lines(
                    Segment.apply_style(body, pad_style), inner, pad=True, style=pad_style,
            include_new_lines=False))
                segments = [*([Segment(" " * left, pad_style)] if left else ()), *line,
                            *([Segment(" " * right, pad_style)] if right else ()), new_line]
                # Table._render: the cell at its width, in the cell's and the row's style
                base = cell_style + row_style
                yield from next(Segment.split_and_crop_lines(
                    Segment.apply_style(segments, base), width, pad=True, style=base,
                    include_new_lines=False))
            yield new_line
