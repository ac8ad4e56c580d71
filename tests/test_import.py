"""`quizforge import`: Anki packages (built with the real Anki by
tests/fixtures/make_anki_fixtures.py), Anki text exports and hashcards Markdown to decks that
validate; the review history into the store; the refusals, word for word."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import fsrs
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from quizforge.cli import app, common
from quizforge.decks.validate import parse_deck
from quizforge.importing import scalar
from quizforge.importing.html_text import html_to_text

FIX = Path(__file__).parent / "fixtures" / "anki"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    for console in (common.out, common.err):
        monkeypatch.setattr(console, "width", 200)


def guid(g: str) -> str:
    """The documented id of an Anki note: 'anki-' and 10 hex digits of BLAKE2b(guid)."""
    return "anki-" + hashlib.blake2b(g.encode(), digest_size=5).hexdigest()


def run(*args: str):
    return runner.invoke(app, ["import", *args])


def imported(tmp_path: Path, source: Path, deck: str = "imp", *extra: str) -> dict:
    r = run(str(source), "--deck", deck, "--out", str(tmp_path / "out"), *extra)
    assert r.exit_code == 0, r.output
    path = tmp_path / "out" / f"{deck}.yaml"
    parsed = parse_deck(path.read_text(encoding="utf-8"), path)
    assert parsed.problems == []  # what `quizforge validate` checks
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def cards_of(deck: dict) -> dict[str, tuple]:
    return {c["id"]: (c["front"], c["back"], c.get("explanation"), tuple(c.get("tags", ())))
            for c in deck["cards"]}


# What the fixture script put in Anki, as quizforge should read it back.
ANKI_CARDS = {
    guid("qfAdam0001"): ("What does Adam stand for?",
                         "Adaptive moment estimation\nβ₁ = 0.9 & β₂ = 0.999", None,
                         ("optimizers",)),
    guid("qfCurve002"): ("Which curve is this?\n[image: loss-curve.png]",
                         "Training loss < validation loss: overfitting starts where they part.",
                         None, ("curves", "plots")),
    guid("qfRelu0003"): ("ReLU", "max(0, x)", None, ("activations",)),
    guid("qfRelu0003") + "-t2": ("max(0, x)", "ReLU", None, ("activations",)),
    guid("qfSoftmax4") + "-c1": (
        "[...] turns logits into probabilities that sum to 1.", "Softmax",
        "Back Extra: Subtract the max logit first for numerical stability.", ("activations",)),
    guid("qfSoftmax4") + "-c2": (
        "Softmax turns logits into [what?] that sum to 1.", "probabilities",
        "Back Extra: Subtract the max logit first for numerical stability.", ("activations",)),
    # "type in the answer": the answer box is not text on the front.
    guid("qfTyped006"): ("Default β₁ of Adam?", "0.9", None, ()),
    # "optional reversed": a reverse card only when "Add Reverse" is filled; that field is a
    # switch, not content, so it is not copied into the card.
    guid("qfGelu0007"): ("GELU", "x·Φ(x)", None, ()),
    guid("qfGelu0007") + "-t2": ("x·Φ(x)", "GELU", None, ()),
    guid("qfTanh0008"): ("Tanh range", "(−1, 1)", None, ()),
    guid("qfMoment05"): ("Momentum", "An exponential moving average of past gradients.",
                         "Example: v ← 0.9·v + g; θ ← θ − η·v", ("optimizers",)),
}


@pytest.mark.parametrize("name, inner", [
    ("ml.apkg", "collection.anki21b"),
    ("ml-legacy.apkg", "collection.anki21"),
    ("ml.colpkg", "collection.anki21b"),
])
def test_anki_packages_old_and_zstd_give_the_same_deck(tmp_path, name, inner):
    assert inner in zipfile.ZipFile(FIX / name).namelist()  # the format this case covers
    deck = imported(tmp_path, FIX / name)
    assert deck["deck"] == "imp"
    assert deck["name"] == "ML Interview"
    assert cards_of(deck) == ANKI_CARDS
    assert [c["id"] for c in deck["cards"]][:2] == [guid("qfAdam0001"), guid("qfCurve002")]


def test_package_output_says_media_are_copied_and_history_is_there(tmp_path):
    r = run(str(FIX / "ml.apkg"), "--deck", "ml", "--out", str(tmp_path))
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        f"Imported 11 cards into deck 'ml' ({tmp_path / 'ml.yaml'}).",
        (f"Copied 1 media file to {tmp_path / 'ml.media'} (press o in study to open a "
         "card's image)."),
        "The package has review history: add --with-history to bring it in.",
        f"Study it: quizforge study --decks {tmp_path} --deck ml",
    ]


def test_anki_text_export_matches_the_package_ids(tmp_path):
    deck = imported(tmp_path, FIX / "ml-notes.txt")
    got = cards_of(deck)
    assert set(got) == set(ANKI_CARDS)  # the guid column gives the package's ids
    # Text exports carry no field names: a stock note type's extra fields get Anki's names
    # ("Back Extra", as from the package); a custom note type's are labelled by position.
    assert got[guid("qfMoment05")][2] == "Field 3: v ← 0.9·v + g; θ ← θ − η·v"
    for card_id in set(ANKI_CARDS) - {guid("qfMoment05")}:
        assert got[card_id] == ANKI_CARDS[card_id]


def test_csv_with_headers(tmp_path):
    deck = imported(tmp_path, FIX / "ml-notes.csv", "csv")
    assert deck["name"] == "ML"  # the deck column's common part
    got = [(c["front"], c["back"], c.get("explanation"), c.get("tags")) for c in deck["cards"]]
    assert got == [
        ("What is weight decay?", "An L2 penalty, λ‖w‖², added to the loss.",
         "Notes: Decoupled in AdamW.", ["imported", "reg", "regularization"]),
        ("Why clip gradients?", "To stop one huge step:\nexploding gradients in RNNs.", None,
         ["imported", "training"]),
        ("[...] zeroes units with probability p.", "Dropout",
         "Answer: Scale by 1/(1−p) at train time.", ["imported", "reg", "regularization"]),
        ("Dropout zeroes units with probability [...].", "p",
         "Answer: Scale by 1/(1−p) at train time.", ["imported", "reg", "regularization"]),
        ("Bias", "Variance", None, ["imported"]),
        ("Variance", "Bias", None, ["imported"]),  # "Basic (and reversed card)"
    ]
    ids = [c["id"] for c in deck["cards"]]
    front = hashlib.blake2b(b"What is weight decay?", digest_size=3).hexdigest()
    assert ids[0] == f"what-is-weight-decay-{front}"
    assert ids[2].endswith("-c1") and ids[3].endswith("-c2") and ids[5].endswith("-t2")


def test_tsv_without_headers_guesses_tab_and_html(tmp_path):
    r = run(str(FIX / "plain.tsv"), "--deck", "tsv", "--out", str(tmp_path))
    assert r.exit_code == 0
    assert "Skipped 1 card (1 empty back)." in r.stdout
    deck = yaml.safe_load((tmp_path / "tsv.yaml").read_text(encoding="utf-8"))
    assert [(c["front"], c["back"]) for c in deck["cards"]] == [
        ("Learning rate", "The step size η"),
        ("Batch size", "Examples per gradient step"),
        ("logits raw", "scores & more"),  # it looks like HTML, so it is read as HTML
    ]


def test_hashcards_markdown(tmp_path):
    r = run(str(FIX / "ml.md"), "--deck", "hc", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "Skipped 1 card (1 duplicate card)." in r.stdout
    deck = yaml.safe_load((tmp_path / "hc.yaml").read_text(encoding="utf-8"))
    assert deck["name"] == "ML by hashcards"  # from the TOML front matter
    assert [(c["front"], c["back"]) for c in deck["cards"]] == [
        ("What does Adam stand for?", "Adaptive moment estimation."),
        ("List Adam's two moment estimates.",
         "- m: the mean of the gradients\n- v: the mean of their squares"),
        ("[...] turns logits into probabilities.", "Softmax"),
        ("Softmax turns logits into [...].", "probabilities"),
        ("Escaped [brackets] stay; [image: img/loss.png] is an image, [...] is a deletion.",
         "this"),
    ]
    assert parse_deck((tmp_path / "hc.yaml").read_text(encoding="utf-8"),
                      tmp_path / "hc.yaml").problems == []


def test_hashcards_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("Q: one\nA: two\nA: three\n", encoding="utf-8")
    r = run(str(bad), "--deck", "bad", "--out", str(tmp_path))
    assert r.exit_code == 1
    assert r.stderr == f"Error: {bad}:3: Found answer tag while reading an answer.\n"
    bad.write_text("C: no deletion here\n", encoding="utf-8")
    r = run(str(bad), "--deck", "bad", "--out", str(tmp_path))
    assert r.stderr == f"Error: {bad}:1: Cloze card must contain at least one cloze deletion.\n"
    assert not (tmp_path / "bad.yaml").exists()


@pytest.mark.parametrize("source, text, images", [
    ("a<br>b<br/>c", "a\nb\nc", []),
    ("<div>one</div><div>two</div>", "one\ntwo", []),
    ("x &lt; y &amp;&amp; &#945; &nbsp;ok", "x < y && α ok", []),
    ('see <img src="a b.png"> and <img src=c.jpg />', "see [image: a b.png] and [image: c.jpg]",
     ["a b.png", "c.jpg"]),
    ("<ul><li>one</li><li>two</li></ul>", "- one\n- two", []),
    ("<b>bold</b> <i>it</i><script>alert(1)</script><style>p{}</style>", "bold it", []),
    ("over&shy;fit [sound:say.mp3]", "overfit [sound: say.mp3]", []),
    ("a<br><br><br><br>b", "a\n\nb", []),
    # A table: one line per row, cells separated; layout whitespace and a cell's own line
    # breaks do not split a row, spaces between words in a cell stay.
    ("<table>\n<tr>\n <td>lr</td>\n <td>0.001</td>\n</tr>\n"
     "<tr><td><div>warm</div><div>up</div></td><td><b>1</b> <i>k</i> steps</td></tr>\n</table>"
     "after", "lr | 0.001\nwarm up | 1 k steps\nafter", []),
    ("<table><tr><td>a<td>b<tr><td>c<td>d</table>end", "a | b\nc | d\nend", []),
    ("x<sup>2</sup>, β<sub>1</sub>, W<sup>T</sup>, 10<sup>−3</sup>, x<sub>i+1</sub>",
     "x², β₁, Wᵀ, 10⁻³, xᵢ₊₁", []),
    ("e<sup>-x/2</sup>, a<sub>q</sub>, x<sub>i,j</sub>, 2<sup>[1]</sup>",
     "e^(-x/2), a_q, x_(i,j), 2^([1])", []),
])
def test_html_to_text(source, text, images):
    assert html_to_text(source) == (text, images)


_PIECES = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", "<sup>", "</sup>",
           "<sub>", "</sub>", "<div>", "</div>", "<br>", "<li>", " ", "\n", "x", "2", "-",
           "a b", "&amp;", "<b>", "</b>"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_html_to_text_takes_any_nesting(pieces):
    """Tables and super/subscripts in any order, closed or not: plain text, no tag left, no
    row of a table or cell content lost."""
    source = "".join(pieces)
    text, _ = html_to_text(source)
    assert "<" not in text and "\n\n\n" not in text
    for word in ("a b", "x"):
        if word in source and "<sup>" not in source and "<sub>" not in source:
            assert word.replace(" ", "") in text.replace(" ", "")


_EDITOR_PIECES = ["<b>", "</b>", "<i>", "</i>", "<u>", "</strong>", "<em>", "<sup>", "</sup>",
                  "<sub>", "</sub>", "<br>", "<br/>", "<br />", "</br>", "a", "x ", "2", " ",
                  "  ", "\n", "\t", "&amp;", "&lt;", "&", "&am", "&#x32;", "&nbsp;", "<",
                  "<div>", "<B>", "<sup/>", "<b >", "[sound:a.mp3]", "\xad", "&no", "t",
                  "&#", "1", ";", "&lt", "\x00", "</br>", "<strong>", "</em>", "\u3000"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_EDITOR_PIECES), min_size=1, max_size=14))
def test_html_fast_path_reads_a_field_as_html_parser_does(pieces):
    """Fields made only of the editor's plain tags skip html.parser: the text and images are
    what html.parser gives (the reference), and other fields still go through it."""
    from quizforge.importing.html_text import _quick, _Text, _simple, tidy

    source = "".join(pieces)
    reference = _Text()
    reference.feed(source)
    reference.close()
    fast = _simple(source)
    if fast is not None:
        assert fast == "".join(reference.parts) and not reference.images
    quick = _quick(source)
    if quick is not None:  # the regex path gives the same text as the loop and the parser
        assert quick == "".join(reference.parts) and not reference.images
    if "<" in source:
        assert html_to_text(source) == (tidy("".join(reference.parts)), reference.images)


_QUICK_PIECES = ["<sup>", "</sup>", "<sub>", "</sub>", "<b>", "</b>", "<i>", "<br>", "<br />",
                 "&amp;", "&no", "t", "&lt", ";", "&#", "1", "x", " ", "2", "\x00", "\n"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_QUICK_PIECES), min_size=1, max_size=10))
@example(["&no", "<b>", "t"])
@example(["<sup>", "&amp;", "</sup>"])
@example(["&lt", "<sup>", ";", "</sup>"])
@example(["&#", "<i>", "1", ";"])
def test_html_quick_path_reads_a_field_as_html_parser_does(pieces):
    """The regex path (`_quick`), on the tags and entities it takes most often, next to one
    another: the text html.parser gives, or None."""
    from quizforge.importing.html_text import _quick, _Text

    source = "".join(pieces)
    reference = _Text()
    reference.feed(source)
    reference.close()
    quick = _quick(source)
    if quick is not None:
        assert quick == "".join(reference.parts) and not reference.images


def _tidy_reference(text: str) -> str:
    """tidy as it was before it looked for what a line could change: every line of a text
    with a line break, two spaces or a tab collapsed and stripped."""
    import re

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\xad", "").replace("\xa0", " ")
    text = re.sub(r"\[sound:([^\]]+)\]", lambda m: f"[sound: {m.group(1)}]", text)
    if "  " in text or "\t" in text or "\n" in text:
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "b c", " ", "  ", "\t", "\n", "\r", "\r\n", "\xa0",
                                 "\xad", "\u3000", "\x0b", "\x1c", "\x85", "\u2028",
                                 "[sound:x.mp3]", "\n\n\n"]), max_size=16))
def test_tidy_changes_only_the_lines_it_must(pieces):
    """tidy strips and collapses only the lines that need it: the same text as tidying
    every line."""
    from quizforge.importing.html_text import tidy

    text = "".join(pieces)
    assert tidy(text) == _tidy_reference(text)


def test_ids_are_stable_when_the_same_file_is_imported_again(tmp_path):
    first = imported(tmp_path, FIX / "ml.apkg", "again")
    r = run(str(FIX / "ml.apkg"), "--deck", "again", "--out", str(tmp_path / "out"), "--force")
    assert r.exit_code == 0
    second = yaml.safe_load((tmp_path / "out" / "again.yaml").read_text(encoding="utf-8"))
    assert first == second
    # The text export of the same notes and a hashcards/CSV file read twice: same ids too.
    for name in ("ml-notes.csv", "ml.md"):
        a = imported(tmp_path / name / "a", FIX / name, "x")
        b = imported(tmp_path / name / "b", FIX / name, "x")
        assert [c["id"] for c in a["cards"]] == [c["id"] for c in b["cards"]]


def test_export_then_import_round_trips_a_deck(tmp_path):
    """genanki writes the oldest format (collection.anki2 only)."""
    decks = Path(__file__).parent / "fixtures" / "decks" / "good"
    apkg = tmp_path / "out.apkg"
    r = runner.invoke(app, ["export", "anki", str(apkg), "--decks", str(decks),
                            "--deck", "ml-basics"])
    assert r.exit_code == 0, r.output
    assert "collection.anki21" not in zipfile.ZipFile(apkg).namelist()
    source = yaml.safe_load((decks / "ml-basics.yaml").read_text(encoding="utf-8"))
    deck = imported(tmp_path, apkg, "back")
    by_front = {c["front"]: c for c in deck["cards"] if "front" in c}  # MCQs come back as MCQs
    flash = [c for c in source["cards"] if c.get("type", "flashcard") == "flashcard"]
    assert flash
    for card in flash:
        got = by_front[card["front"].strip()]
        # The export puts the explanation under the back (one Basic "Back" field).
        want = card["back"].strip()
        if card.get("explanation"):
            want += "\n" + card["explanation"].strip()
        assert got["back"] == want
    assert len(deck["cards"]) == len(source["cards"])


# -- history -------------------------------------------------------------------------------

def store_rows(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "home" / "quizforge.sqlite3")
    conn.row_factory = sqlite3.Row
    cards = {r["card_id"]: r for r in conn.execute("SELECT * FROM cards WHERE deck_id = 'h'")}
    reviews = conn.execute("SELECT c.card_id, v.* FROM revlog v JOIN cards c ON c.id = v.card"
                           " ORDER BY v.reviewed_at").fetchall()
    conn.close()
    return cards, reviews


def anki_revlog(card_ids_by_note: dict[str, str]):
    """(quizforge card id, ms, ease) per Anki review, read from the fixture directly."""
    from quizforge.importing.apkg import _unzstd

    z = zipfile.ZipFile(FIX / "ml.apkg")
    raw = bytearray(_unzstd(z.read("collection.anki21b"), FIX / "ml.apkg"))
    raw[18] = raw[19] = 1
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(raw))
    rows = conn.execute("SELECT n.guid, c.ord, r.id, r.ease, c.data FROM revlog r"
                        " JOIN cards c ON c.id = r.cid JOIN notes n ON n.id = c.nid"
                        " ORDER BY r.id").fetchall()
    conn.close()
    return [(guid(g) + (f"-t{o + 1}" if o else ""), ms, ease, json.loads(data))
            for g, o, ms, ease, data in rows]


def test_with_history_brings_reviews_and_fsrs_state(tmp_path):
    r = run(str(FIX / "ml.apkg"), "--deck", "h", "--out", str(tmp_path / "out"),
            "--with-history", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["history"] == {"reviews": 8, "already": 0, "cram": 0, "manual": 0,
                                  "from_anki": 2, "replayed": 1, "set_due": 0, "kept": 0,
                                  "suspended": 0, "dropped": 0, "clamped": 0,
                                  "discarded": 0}
    cards, reviews = store_rows(tmp_path)
    anki = anki_revlog({})
    assert [(r["card_id"], r["reviewed_at"], r["rating"]) for r in reviews] == \
        [(cid, ms, ease) for cid, ms, ease, _ in anki]
    assert [r["state_before"] for r in reviews if r["card_id"] == guid("qfRelu0003")] == [0, 1, 1]

    # ReLU and its reverse: Anki's own FSRS memory state.
    for cid in (guid("qfRelu0003"), guid("qfRelu0003") + "-t2"):
        data = next(d for c, _, _, d in anki if c == cid)
        assert (cards[cid]["state"], cards[cid]["stability"], cards[cid]["difficulty"]) == \
            (2, data["s"], data["d"])
        assert cards[cid]["reps"] == 3
    # Adam: reviewed under SM-2, so no memory state: its answers are replayed. Reference:
    # py-fsrs itself, fed the same ratings at the same times.
    adam = [(ms, ease) for c, ms, ease, _ in anki if c == guid("qfAdam0001")]
    ref = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card()
    for ms, ease in adam:
        card, _ = ref.review_card(card, fsrs.Rating(ease),
                                  datetime.fromtimestamp(ms / 1000, tz=UTC))
    row = cards[guid("qfAdam0001")]
    assert row["state"] == int(card.state)
    assert row["stability"] == pytest.approx(card.stability)
    assert row["difficulty"] == pytest.approx(card.difficulty)
    assert row["last_review"] == adam[-1][0]
    assert cards[guid("qfCurve002")]["state"] == 0  # never reviewed: new


def test_importing_history_again_adds_nothing(tmp_path):
    args = [str(FIX / "ml.apkg"), "--deck", "h", "--out", str(tmp_path / "out"),
            "--with-history"]
    assert run(*args).exit_code == 0
    r = run(*args, "--force")
    assert r.exit_code == 0
    assert "History: 0 reviews added (8 already in the store); FSRS state from Anki for " \
        "2 cards, replayed for 1." in r.stdout
    _, reviews = store_rows(tmp_path)
    assert len(reviews) == 8


# -- refusals ------------------------------------------------------------------------------

def test_refusals_word_for_word(tmp_path):
    out = tmp_path / "out"
    cases = []
    weird = tmp_path / "cards.xlsx"
    weird.write_bytes(b"not a zip")
    cases.append(((str(weird), "--deck", "x"),
                  (f"Error: cannot import {weird}: unknown file type '.xlsx' (expected an Anki "
                  "package .apkg/.colpkg, Anki text .txt/.csv/.tsv, or hashcards .md)\n")))
    corrupt = tmp_path / "broken.apkg"
    corrupt.write_bytes((FIX / "ml.apkg").read_bytes()[:3000])
    cases.append(((str(corrupt), "--deck", "x"),
                  (f"Error: {corrupt} is not a readable Anki package: not a zip file "
                  "(truncated or not a package)\n")))
    empty_zip = tmp_path / "empty.apkg"
    with zipfile.ZipFile(empty_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    cases.append(((str(empty_zip), "--deck", "x"),
                  (f"Error: {empty_zip} is not an Anki package: it holds no collection.anki2, "
                  ".anki21 or .anki21b\n")))
    cases.append(((str(tmp_path / "missing.apkg"), "--deck", "x"),
                  f"Error: no such file: {tmp_path / 'missing.apkg'}\n"))
    cases.append(((str(FIX / "ml.apkg"), "--deck", "My Deck"),
                  "Error: invalid deck id 'My Deck': use only a-z, 0-9 and '-' (try 'my-deck')\n"))
    cases.append(((str(FIX / "ml.apkg"), "--deck", "backprop"),
                  "Error: a deck with id 'backprop' already exists ("))
    cases.append(((str(FIX / "ml-notes.csv"), "--deck", "x", "--with-history"),
                  ("Error: --with-history needs an Anki package (.apkg or .colpkg): "
                  "ml-notes.csv holds no review history\n")))
    for args, message in cases:
        r = run(*args, "--out", str(out))
        assert r.exit_code == 1, (args, r.output)
        assert r.stderr.startswith(message) if not message.endswith("\n") else \
            r.stderr == message, (args, r.stderr)
        assert not out.exists() or not any(out.iterdir())

    assert run(str(FIX / "ml.md"), "--deck", "x", "--out", str(out)).exit_code == 0
    r = run(str(FIX / "ml.apkg"), "--deck", "x", "--out", str(out))
    assert r.exit_code == 1
    assert r.stderr == f"Error: {out / 'x.yaml'} exists; pass --force to replace it\n"
    assert "hashcards" in (out / "x.yaml").read_text(encoding="utf-8")  # untouched


def test_damaged_collection_inside_a_good_zip(tmp_path):
    bad = tmp_path / "bad.apkg"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("collection.anki21b", b"\x28\xb5\x2f\xfd garbage")
    r = run(str(bad), "--deck", "x", "--out", str(tmp_path))
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: {bad}: the compressed collection is damaged (")
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("collection.anki21", b"SQLite format 3\x00" + b"\x00" * 200)
    r = run(str(bad), "--deck", "x", "--out", str(tmp_path))
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: {bad}: collection.anki21 is damaged (")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(min_size=1), st.lists(st.text(), min_size=2).map("\n".join))
       .map(str.strip).filter(bool), st.booleans())
def test_deck_text_scalars_read_back_as_written(text, flow):
    """The hand-written YAML scalars: whatever the text, YAML reads the same text back."""
    written = scalar(text, 0, flow=flow)
    doc = f"k: [{written}]" if flow else f"k: {written}"
    try:
        value = yaml.safe_load(doc)["k"]
    except yaml.YAMLError:  # characters YAML cannot hold at all: they must be quoted
        pytest.fail(f"{text!r} written as {written!r} is not YAML")
    assert (value[0] if flow else value) == text


def test_revlog_rows_map_to_reviews():
    from quizforge.importing.history import records
    from quizforge.importing.model import AnkiReview

    day = 86_400_000
    rows = [AnkiReview(1_000, 3, -600, 4_000, 0),        # first learn answer: from new
            AnkiReview(2_000, 3, 1, 3_000, 0),           # learn again: from learning
            AnkiReview(2_000 + day, 0, 0, 0, 4),         # manual reschedule: not an answer
            AnkiReview(1_000 + 2 * day, 1, -600, 9_000, 1),  # review, forgotten: a lapse
            AnkiReview(1_500 + 2 * day, 3, 2, 2_000, 2),     # relearn
            AnkiReview(1_000 + 3 * day, 4, 0, 1_000, 3)]     # filtered deck: cram
    got, manual = records(rows, datetime(1970, 1, 5, tzinfo=UTC))
    assert manual == 1
    assert [(int(r.state_before), int(r.rating), r.duration_ms, cram) for r, cram in got] == [
        (0, 3, 4_000, False), (1, 3, 3_000, False), (2, 1, 9_000, False),
        (3, 3, 2_000, False), (2, 4, 1_000, True)]
    assert [r.interval_days for r, _ in got][:3] == [600 / 86_400, 1.0, 600 / 86_400]
    assert got[0][0].elapsed_days is None
    assert got[2][0].elapsed_days == pytest.approx((2 * day - 1_000) / day)
    assert [r.lapse for r, _ in got] == [False, False, True, False, False]


def test_truncated_zstd_collection(tmp_path):
    data = zipfile.ZipFile(FIX / "ml.apkg").read("collection.anki21b")
    bad = tmp_path / "cut.apkg"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("collection.anki21b", data[:len(data) // 2])
    r = run(str(bad), "--deck", "x", "--out", str(tmp_path))
    assert r.exit_code == 1
    assert r.stderr == (f"Error: {bad}: collection.anki21b is not an SQLite database "
                        "(damaged or truncated)\n")


def test_a_card_studied_here_since_keeps_its_schedule_on_reimport(tmp_path):
    from quizforge.scheduling.scheduler import Rating, Scheduler
    from quizforge.store.cards import find_card, insert_review, write_schedule
    from quizforge.store.db import Database

    args = [str(FIX / "ml.apkg"), "--deck", "h", "--out", str(tmp_path / "out"),
            "--with-history"]
    assert run(*args).exit_code == 0
    db = Database(tmp_path / "home" / "quizforge.sqlite3")
    row = find_card(db, "h", guid("qfAdam0001"))
    later = row.schedule.last_review.replace(year=2027)
    schedule, record = Scheduler().review(row.schedule, Rating.EASY, later, fuzz_seed=1)
    with db.atomic() as conn:
        write_schedule(conn, row.rowid, schedule)
        insert_review(conn, row.rowid, record)
    db.close()

    r = run(*args, "--force", "--json")
    assert json.loads(r.stdout)["history"]["kept"] == 1
    db = Database(tmp_path / "home" / "quizforge.sqlite3")
    assert find_card(db, "h", guid("qfAdam0001")).schedule == schedule
    db.close()


def test_cards_suspended_in_anki_are_suspended_here(tmp_path):
    z = zipfile.ZipFile(FIX / "ml-legacy.apkg")
    raw = bytearray(z.read("collection.anki21"))
    raw[18] = raw[19] = 1
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(raw))
    conn.execute("UPDATE cards SET queue = -1 WHERE nid IN"
                 " (SELECT id FROM notes WHERE guid IN ('qfAdam0001', 'qfCurve002'))")
    conn.commit()
    package = tmp_path / "suspended.apkg"
    with zipfile.ZipFile(package, "w") as out:
        out.writestr("collection.anki21", conn.serialize())
    conn.close()
    r = run(str(package), "--deck", "h", "--out", str(tmp_path / "out"), "--with-history",
            "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["history"]["suspended"] == 2
    cards, _ = store_rows(tmp_path)
    assert {cid for cid, row in cards.items() if row["suspended"]} == \
        {guid("qfAdam0001"), guid("qfCurve002")}


def test_replay_without_fuzz_before_the_last_answer_gives_the_same_schedule():
    """The history replay sends every answer but the last through a fuzz-free twin of the
    scheduler (fuzz only moves a due date, and only the last one is kept): the schedule is
    the one the fuzzing scheduler gives for every answer, with leeches and an interview date
    too."""
    import random
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from quizforge.importing.history import replay, unfuzzed_twin
    from quizforge.scheduling.config import Config
    from quizforge.scheduling.scheduler import Rating, ReviewRecord, Scheduler, State

    rng = random.Random(11)
    for config in (Config(), replace(Config(), desired_retention=0.85, leech_threshold=3),
                   replace(Config(), interview_date="2026-03-20")):
        scheduler = Scheduler(config)
        twin = unfuzzed_twin(scheduler)
        for i in range(150):
            t = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(2000))
            answers = []
            for _ in range(rng.randrange(1, 14)):
                t += timedelta(hours=rng.choice([0.2, 5, 20, 30, 80, 300, 900]))
                record = ReviewRecord(t, Rating(rng.choice([1, 2, 3, 3, 3, 4])), 3000,
                                      State.REVIEW, 1.0, None, False, False)
                answers.append((record, rng.random() < 0.1))
            assert replay(scheduler, f"k{i}", answers, False, 4 * 3600, twin) == \
                replay(scheduler, f"k{i}", answers, False, 4 * 3600), (config, i)


def test_import_turns_the_garbage_collector_back_on(tmp_path):
    """The import runs with the cyclic GC paused (gc_paused); it is on again after, whether
    the import worked or failed."""
    import gc

    assert gc.isenabled()
    ok = run(str(FIX / "ml.apkg"), "--deck", "ml", "--out", str(tmp_path), "--with-history")
    assert ok.exit_code == 0 and gc.isenabled()
    bad = tmp_path / "bad.apkg"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    failed = run(str(bad), "--deck", "bad", "--out", str(tmp_path))
    assert failed.exit_code != 0 and gc.isenabled()
