"""hashcards decks (github.com/eudoxia0/hashcards): Markdown with question/answer cards and
cloze cards.

    Q: What does Adam stand for?
    A: Adaptive moment estimation.

    C: [Softmax] turns logits into [probabilities].

A card runs until the next `Q:`/`C:` line, a `---` line or the end; lines starting with `#`
are comments; `\\[` and `\\]` are literal brackets and `![alt](file)` an image, not a cloze.
Each bracketed deletion is its own card (hashcards' "siblings"). TOML front matter between
`---` lines may set `name = "..."`, the deck's name. Errors are hashcards' own, with the line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from quizforge.errors import ImportFileError
from quizforge.importing.html_text import tidy
from quizforge.importing.ids import UniqueIds, text_id, with_suffix
from quizforge.importing.model import Imported, ImportedCard

_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def read_hashcards(path: Path) -> Imported:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportFileError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise ImportFileError(f"cannot read {path}: {e.strerror or e}") from None
    lines = text.splitlines()
    name, first_line = _front_matter(lines, path)
    result = Imported(name=name or path.stem, format="hashcards")
    cards = _Cards(result)
    state, buf, start = "start", {"q": "", "a": "", "c": ""}, 0

    def fail(message: str, line: int) -> ImportFileError:
        return ImportFileError(f"{path}:{line + 1}: {message}")

    def finish() -> None:
        if state == "answer":
            cards.basic(buf["q"], buf["a"], start)
        elif state == "cloze":
            cards.cloze(buf["c"], start, fail)

    for n in range(first_line, len(lines)):
        line = lines[n]
        head = line[:2]
        if line.strip() == "---":
            if state == "question":
                raise fail("Found flashcard separator while reading a question.", n)
            finish()
            state = "start"
        elif head == "Q:":
            if state == "question":
                raise fail("New question without answer.", n)
            finish()
            state, start, buf["q"] = "question", n, line[2:].strip()
        elif head == "A:":
            if state != "question":
                raise fail({"start": "Found answer tag without a question.",
                            "answer": "Found answer tag while reading an answer.",
                            "cloze": "Found answer tag while reading a cloze card."}[state], n)
            state, buf["a"] = "answer", line[2:].strip()
        elif head == "C:":
            if state == "question":
                raise fail("Found cloze tag while reading a question.", n)
            finish()
            state, start, buf["c"] = "cloze", n, line[2:].strip()
        elif line.lstrip().startswith("#"):
            continue
        elif state == "question":
            buf["q"] += "\n" + line
        elif state == "answer":
            buf["a"] += "\n" + line
        elif state == "cloze":
            buf["c"] += "\n" + line
    if state == "question":
        raise fail("File ended while reading a question without an answer.",
                   max(0, len(lines) - 1))
    finish()
    if not result.cards and not result.skipped:
        raise ImportFileError(f"{path} has no hashcards cards (Q:/A: or C: lines)")
    return result


def _front_matter(lines: list[str], path: Path) -> tuple[str | None, int]:
    if not lines or lines[0].strip() != "---":
        return None, 0
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            try:
                meta = tomllib.loads("\n".join(lines[1:i]))
            except tomllib.TOMLDecodeError as e:
                raise ImportFileError(f"{path}: bad TOML front matter ({e})") from None
            name = meta.get("name")
            return (str(name) if name else None), i + 1
    raise ImportFileError(f"{path}:1: Frontmatter opening '---' found but no closing '---'")


def _markdown(text: str, images: set[str]) -> str:
    def image(m: re.Match) -> str:
        images.add(m.group(1))
        return f"[image: {m.group(1)}]"

    return tidy(_IMAGE.sub(image, text))


def split_cloze(text: str) -> tuple[str, list[tuple[int, int]]]:
    """hashcards' reading of a cloze text: the text without deletion brackets, and each
    deletion's (start, end) in it. `![..](..)` keeps its brackets; `\\[`, `\\]` are literal."""
    clean: list[str] = []
    spans: list[tuple[int, int]] = []
    start = None
    image = False
    i = 0
    while i < len(text):
        c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if c == "\\" and nxt in ("[", "]"):
            clean.append(nxt)
            i += 2
            continue
        if c == "!" and nxt == "[":
            image = True
            clean.append(c)
        elif c == "[":
            if image:
                clean.append(c)
            else:
                start = len(clean)
        elif c == "]":
            if image:
                image = False
                clean.append(c)
            elif start is not None:
                spans.append((start, len(clean)))
                start = None
        else:
            clean.append(c)
        i += 1
    return "".join(clean), spans


class _Cards:
    def __init__(self, result: Imported) -> None:
        self.result = result
        self.ids = UniqueIds()
        self.seen: set[tuple[str, str]] = set()

    def _add(self, base: str, front: str, back: str) -> None:
        if (front, back) in self.seen:  # hashcards drops a card identical to another
            self.result.skipped["duplicate card"] += 1
            return
        self.seen.add((front, back))
        if not front or not back:
            self.result.skipped["empty front" if not front else "empty back"] += 1
            return
        self.result.cards.append(ImportedCard(self.ids.take(base), front, back))

    def basic(self, question: str, answer: str, line: int) -> None:
        front = _markdown(question, self.result.images)
        self._add(text_id(front), front, _markdown(answer, self.result.images))

    def cloze(self, text: str, line: int, fail) -> None:
        text = text.strip()
        clean, spans = split_cloze(text)
        if not spans:
            raise fail("Cloze card must contain at least one cloze deletion.", line)
        base = text_id(_markdown(clean, set()))
        for n, (a, b) in enumerate(spans, 1):
            front = _markdown(clean[:a] + "[...]" + clean[b:], self.result.images)
            back = _markdown(clean[a:b], self.result.images)
            self._add(with_suffix(base, "c", n), front, back)
