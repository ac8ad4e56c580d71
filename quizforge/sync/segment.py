"""The files in the sync folder: one folder per device, append-only segments of JSON lines.

    DIR/quizforge-sync/<device>/device.json      which store owns the folder (its nonce)
    DIR/quizforge-sync/<device>/seg-00000001.jsonl

A segment is written to a hidden temporary name in the same folder, flushed to disk and
renamed into place, and never changed after. Its first line is a header, then one record per
line, then a trailer. Answers travel many to a line: `cards` records list the cards the
segment's answers are to (deck, card, kind), and the answers name their card by its place in
that list, so each card is looked up once. Every line but the trailer ends with
`"c":"xxxxxxxx"`: the CRC-32 (hex) of the line's bytes before `,"c":`. The trailer counts the
lines before it and gives the SHA-256 of their bytes. A file whose last line is not a valid
trailer is not complete yet (a sync tool copied it mid-write): readers skip it and read it
once it is.

Format 2 (written since 2026-12) packs the answers a column at a time: each `packed` record
holds up to PACK answers as `data`, the base64 of one zstd frame of nine little-endian
columns one after another (PACKED_COLUMNS; 8 bytes a value: int64, but `elapsed`, a float64
that is NaN for none), and `after`, [place, *schedule] for the answers that carry one. A
million answers are ten lines, decoded in a fraction of a second, and a third of the bytes.
Format 1 (JSON rows: `reviews` records of up to BATCH rows of REVIEW_COLUMNS) is still read,
and written for tests of it.
"""

from __future__ import annotations

import gc
import hashlib
import math
import os
import re
import zlib
from contextlib import contextmanager
from itertools import compress
from operator import add, eq, itemgetter
from dataclasses import dataclass, field
from pathlib import Path

import json
import sys
from array import array
from binascii import Error as Base64Error, a2b_base64, b2a_base64

@contextmanager
def collector_off():
    """The cyclic garbage collector off for a bulk read or write: a first sync holds a
    million rows and lists at once, which the collector would walk again and again (none of
    them holds a cycle). Back on afterwards if it was on."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


FORMAT = 2  # what this quizforge writes
FORMATS = (1, 2)  # what it reads
ROOT = "quizforge-sync"
SEGMENT = re.compile(r"^seg-(\d{8})\.jsonl$")
_SEQ_IN_COPY = re.compile(r"^seg-(\d{8})")


# One answer in a `reviews` record: its uid number, its card (a place in the segment's
# `cards` list), time (ms), rating, duration (ms), state before, the interval its device
# gave it (ms), elapsed days, cram (0/1), and `after`: the schedule its device left (state,
# step, stability, difficulty, due, reps, lapses, leech), sent only with the last answer of
# each card in the segment (the only one a reader can use), else null.
REVIEW_COLUMNS = ("n", "card", "at", "rating", "ms", "before", "ivl_ms", "elapsed", "cram",
                  "after")
CARD_COLUMNS = ("deck", "card", "kind")
BATCH = 2000  # answers in one `reviews` line (format 1)
PACK = 100_000  # answers in one `packed` line (format 2)
PACKED_COLUMNS = REVIEW_COLUMNS[:-1]  # `after` goes beside them, for the few that have one
PACKED_TYPES = "qqqqqqqdq"  # array codes of PACKED_COLUMNS: int64, elapsed float64
_MAX = 1 << 53  # larger integers are no time, count or uid this program writes
TIME_MAX = 253_402_300_799_999  # the last millisecond of year 9999: no later time or duration
MAX_BYTES = 1 << 30  # a segment this big is no quizforge's (1M answers take ~82 MB)
_TAIL = 4096  # read first from a file's end: a trailer is ~110 bytes
_CHUNK = 1 << 22  # a body is read and hashed this many bytes at a time


def segment_name(seq: int) -> str:
    return f"seg-{seq:08d}.jsonl"


def is_conflict_copy(name: str) -> bool:
    """A copy a sync tool made beside a segment: Syncthing's `seg-…sync-conflict-….jsonl`,
    Dropbox's `seg-… (conflicted copy …).jsonl`, `seg-… (1).jsonl` and the like."""
    return (name.startswith("seg-") and ".jsonl" in name and not name.startswith(".")
            and SEGMENT.match(name) is None)


def copy_seq(name: str) -> int | None:
    m = _SEQ_IN_COPY.match(name)
    return int(m.group(1)) if m else None


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(raw: bytes):
    return json.loads(raw)


def line(record: dict) -> bytes:
    """One checksummed line (without its newline)."""
    body = dumps(record)[:-1]
    return body + b',"c":"%08x"}' % zlib.crc32(body)


def line_ok(raw: bytes) -> bool:
    i = raw.rfind(b',"c":"')
    if i < 0 or len(raw) != i + 16 or not raw.endswith(b'"}'):
        return False
    try:
        return zlib.crc32(raw[:i]) == int(raw[i + 6:i + 14], 16)
    except ValueError:
        return False


def encode(header: dict, records, reviews=(), cards=(), packed: bool = True) -> bytes:
    """A whole segment: header, `cards` ([deck, card, kind] lists) and the answers in
    `reviews` (rows of REVIEW_COLUMNS) in `packed` lines of PACK answers (format 2; or, if
    not `packed`, `reviews` lines of BATCH rows, format 1), the other records (any iterable
    of dicts), trailer."""
    lines = [line({"t": "segment", "format": FORMAT if packed else 1, **header})]
    lines += [line({"t": "cards", "cols": list(CARD_COLUMNS), "rows": cards[i:i + BATCH]})
              for i in range(0, len(cards), BATCH)]
    columns = reviews.columns if isinstance(reviews, Rows) else None
    step = PACK if packed else BATCH
    for i in range(0, len(reviews), step):
        if packed:
            part = ([c[i:i + step] for c in columns] if columns is not None
                    else list(map(list, zip(*reviews[i:i + step]))))
            try:
                lines.append(line(pack(part)))
                continue
            except (TypeError, OverflowError):
                pass  # a value no column can hold (a damaged store's): sent as JSON rows
        rows = reviews[i:i + step]
        lines += [line({"t": "reviews", "cols": list(REVIEW_COLUMNS), "rows": rows[j:j + BATCH]})
                  for j in range(0, len(rows), BATCH)]
    lines += [line(r) for r in records]
    body = b"\n".join(lines) + b"\n"
    trailer = dumps({"t": "end", "count": len(lines),
                     "sha256": hashlib.sha256(body).hexdigest()})
    return body + trailer + b"\n"


def pack(columns: list[list]) -> dict:
    """A `packed` record of these answers (REVIEW_COLUMNS, a list each)."""
    import zstandard

    raw = bytearray()
    for code, name, col in zip(PACKED_TYPES, PACKED_COLUMNS, columns):
        if name == "elapsed":
            col = [math.nan if v is None else v for v in col]
        a = array(code, col)
        if sys.byteorder != "little":
            a.byteswap()
        raw += a.tobytes()
    data = zstandard.ZstdCompressor(level=3).compress(bytes(raw))
    after = [[i, *a] for i, a in enumerate(columns[-1]) if a is not None]
    return {"t": "packed", "count": len(columns[0]), "cols": list(PACKED_COLUMNS),
            "types": PACKED_TYPES, "data": b2a_base64(data, newline=False).decode(),
            "after": after}


class Incomplete(Exception):
    """The file is not (yet) a whole segment."""


class Newer(Exception):
    """The file is a segment of a format newer than this quizforge reads: left as it is
    (`newer_status`), read once quizforge here is updated."""


def newer_status() -> str:
    """How a scan remembers a segment too new for this quizforge: with the newest format it
    reads, so a quizforge that reads more reads the segment again (sync_files.status)."""
    return f"newer-{max(FORMATS)}"


def is_newer_status(status: str) -> bool:
    """Whether a segment remembered so (by this or an older quizforge) may be readable now."""
    return (status.startswith("newer-") and status[6:].isdigit()
            and int(status[6:]) < max(FORMATS))


class Bad(Exception):
    """The file is a whole segment (its checksum matches) but a record in it is not one this
    quizforge can read: nothing of it is applied."""


class Rows:
    """A segment's answers read a column at a time (`packed`), as rows of REVIEW_COLUMNS:
    its length and a row by place without making the million lists a first sync reads;
    all of them when iterated."""

    def __init__(self, columns: list[list]) -> None:
        self.columns = columns
        self._rows: list[list] | None = None

    def __len__(self) -> int:
        return len(self.columns[0])

    def _all(self) -> list[list]:
        if self._rows is None:
            self._rows = list(map(list, zip(*self.columns)))
        return self._rows

    def __getitem__(self, i):
        if self._rows is None and type(i) is int:
            return [col[i] for col in self.columns]
        return self._all()[i]

    def __iter__(self):
        return iter(self._all())

    def __eq__(self, other) -> bool:
        return self._all() == (other._all() if isinstance(other, Rows) else other)

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Segment:
    header: dict
    records: list[dict]  # every record but the answers
    # answers: rows of REVIEW_COLUMNS (Rows, made when asked, for a packed segment)
    reviews: list[list] | Rows = field(default_factory=list)
    cards: list[list] = field(default_factory=list)  # [deck, card, kind] the rows point to
    # the answers a column at a time (columns[i][j] is reviews[j][i]), as they were checked
    columns: list[list] = field(default_factory=list)


def decode(data: bytes) -> Segment:
    """The segment in `data`; Incomplete if its trailer is missing or does not match."""
    cut, trailer = _trailer(data)
    body = data[:cut]
    if hashlib.sha256(body).hexdigest() != trailer["sha256"]:
        raise Incomplete("checksum does not match")
    return _decode_body(body, trailer)


def read(path: Path, size: int) -> Segment:
    """The segment in the file at `path` (`size` bytes when it was listed), read without
    holding more of it than needed: a file over MAX_BYTES is Bad unread; its last few KB
    are read first, and a file without a valid trailer there is Incomplete, the rest unread;
    the body is then read and hashed a chunk at a time. OSError if it cannot be read."""
    if size > MAX_BYTES:
        raise Bad(f"{size / (1 << 20):,.0f} MB, more than a segment may hold"
                  f" ({MAX_BYTES >> 20:,} MB)")
    try:
        f = open_regular(path)
    except NotRegular:
        raise Bad("not a regular file") from None
    with f:
        f.seek(max(0, size - _TAIL))
        tail = f.read(_TAIL)
        start = max(0, size - len(tail))
        cut, trailer = _trailer(tail, whole=start == 0)
        cut += start
        body = bytearray(cut)
        view, digest, at = memoryview(body), hashlib.sha256(), 0
        f.seek(0)
        while at < cut:
            got = f.readinto(view[at:at + _CHUNK])
            if not got:
                raise Incomplete("the file got shorter while it was read")
            digest.update(view[at:at + got])
            at += got
        view.release()
    if digest.hexdigest() != trailer["sha256"]:
        raise Incomplete("checksum does not match")
    return _decode_body(body, trailer)


class NotRegular(OSError):
    """A path in the sync folder that is no regular file (a FIFO, a device)."""


def open_regular(path: Path):
    """`path` opened for reading in binary, if it is a regular file: a FIFO (or a device)
    put in the sync folder under a segment's name would block the read for ever; OSError
    (NotRegular) instead. Opened without blocking, then checked, so the check and the read
    are of one file."""
    import errno
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(errno.EINVAL, "not a regular file", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _trailer(data, whole: bool = True) -> tuple[int, dict]:
    """Where the trailer (the last line of `data`, the end of a file) starts, and the
    trailer; Incomplete if the last line is not one. `whole`: `data` starts the file (else
    the trailer must start after a newline in it)."""
    if not data.endswith(b"\n"):
        raise Incomplete("no trailer")
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    if cut == 0 and not whole:
        raise Incomplete("no trailer")
    try:
        trailer = loads(bytes(data[cut:-1]))
    except (ValueError, RecursionError):
        raise Incomplete("no trailer") from None
    if (not isinstance(trailer, dict) or trailer.get("t") != "end"
            or type(trailer.get("count")) is not int or not isinstance(trailer.get("sha256"), str)):
        raise Incomplete("no trailer")
    return cut, trailer


def _decode_body(body, trailer: dict) -> Segment:
    """The records of a body whose hash matched its trailer's."""
    lines = body.split(b"\n")[:-1]
    if len(lines) != trailer["count"] or not lines:
        raise Incomplete("line count does not match")
    # The SHA-256 of the whole body matched: every line is as written, and each line's own
    # CRC (there for a line read on its own) need not be checked again.
    out, reviews, cards = [], [], []
    columns: list[list] = [[] for _ in REVIEW_COLUMNS]
    append = out.append
    packed = False
    top, top_line = -1, 0  # the highest card place an answer names, and where
    for i, raw in enumerate(lines):
        try:
            rec = loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
            raise Bad(f"line {i + 1} is not JSON this quizforge can read") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("t"), str):
            raise Bad(f"line {i + 1} is not a record")
        rec.pop("c", None)
        if not i:
            _check_header(rec)
        if rec["t"] == "packed":
            if out[0].get("format") < 2:
                raise Bad(f"line {i + 1}: packed answers in a segment of format 1")
            card_top = check_packed(rec, i + 1, columns)
            packed = True
            if card_top > top:
                top, top_line = card_top, i + 1
        elif rec["t"] == "reviews":
            rows = check_reviews(rec, i + 1, columns)
            reviews += rows
            if max(map(_CARD, rows)) > top:
                top, top_line = max(map(_CARD, rows)), i + 1
        elif rec["t"] == "cards":
            cards += check_cards(rec, i + 1)
        else:
            if i:
                check_record(rec, i + 1)
                if (rec["t"] not in RECORDS or rec["t"] == "setting") and _not_finite(rec):
                    raise Bad(f"line {i + 1}: a number that is not finite (NaN, Infinity)")
            append(rec)
    if top >= len(cards):
        raise Bad(f"line {top_line}: an answer names card {top} of the {len(cards)} listed")
    return Segment(out[0], out[1:], Rows(columns) if packed else reviews, cards, columns)


def _not_finite(value) -> bool:
    """Whether a NaN or an infinity is anywhere in `value` (JSON as Python's parser reads
    it: it takes NaN, Infinity and 1e999, which no quizforge writes)."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is float:
            if not math.isfinite(v):
                return True
        elif t is dict:
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
    return False


def _check_header(rec: dict) -> None:
    if rec.get("t") != "segment" or not isinstance(rec.get("device"), str):
        raise Incomplete("no header")
    form = rec.get("format")
    if type(form) is int and form > max(FORMATS):
        raise Newer(f"format {form}; this quizforge reads {' and '.join(map(str, FORMATS))}")
    if type(form) is not int or form not in FORMATS:
        raise Bad(f"line 1: format {str(form)[:20]}, none a quizforge writes")
    check_record(rec, 1)


def check_packed(rec: dict, where: int, columns_out: list[list]) -> int:
    """The answers of a `packed` record, checked (every value's range, a column at a time),
    added to `columns_out` (one list per REVIEW_COLUMNS); the highest card place they name.
    What is decompressed is bounded by the count of answers the record gives."""
    count = rec.get("count")
    if rec.get("cols") != list(PACKED_COLUMNS) or rec.get("types") != PACKED_TYPES:
        raise Bad(f"line {where}: packed answers with columns {str(rec.get('cols'))[:80]}"
                  f" {str(rec.get('types'))[:20]} (this quizforge reads"
                  f" {', '.join(PACKED_COLUMNS)} {PACKED_TYPES})")
    if type(count) is not int or not 0 < count <= PACK:
        raise Bad(f"line {where}: packed answers whose count is not 1 to {PACK:,}")
    data, after = rec.get("data"), rec.get("after")
    if type(data) is not str or type(after) is not list:
        raise Bad(f"line {where}: packed answers without data")
    size = count * 8 * len(PACKED_COLUMNS)
    raw = _one_frame(data, size)
    if raw is None:
        raise Bad(f"line {where}: packed answers whose data is not {count:,} answers")
    got = (_unpack_numpy if count >= NUMPY_FROM else _unpack)(raw, count, where)
    afters: list = [None] * count
    if after:
        if set(map(type, after)) != {list} or set(map(len, after)) != {1 + len(_AFTER)}:
            raise Bad(f"line {where}: an 'after' that is not a list of {1 + len(_AFTER)} values")
        places = [a[0] for a in after]
        _check(places, _INT, False, 0, count - 1, where, "an 'after''s place")
        if len(set(places)) != len(places):
            raise Bad(f"line {where}: two 'after's for one answer")
        for j, (types, col) in enumerate(zip(_AFTER, list(zip(*after))[1:])):
            _check(col, types, j in (1, 2, 3, 4), -_MAX, _MAX, where, f"a review's after[{j}]")
        every = all_sane([a[1:] for a in after])
        for place, *schedule in after:
            if every or sane_schedule(schedule):
                afters[place] = schedule
    got.append(afters)
    for i, col in enumerate(got):
        if columns_out[i]:
            columns_out[i] += col
        else:  # the first answers: these lists are the columns
            columns_out[i] = col
    return max(got[REVIEW_COLUMNS.index("card")])


def _one_frame(data: str, size: int) -> bytes | None:
    """The `size` bytes packed in `data` as this quizforge writes them (strict base64 of
    one zstd frame whose header gives its size, nothing after it); None for anything else.
    No more than `size` bytes are ever decompressed: the header must say `size`, and zstd
    refuses a frame whose content does not match its header."""
    import zstandard

    try:
        packed = a2b_base64(data, strict_mode=True)
        if zstandard.get_frame_parameters(packed).content_size != size:
            return None
        frame = zstandard.ZstdDecompressor().decompressobj()
        raw = frame.decompress(packed)
    except (Base64Error, ValueError, zstandard.ZstdError):
        return None
    if len(raw) != size or frame.unused_data or not frame.eof:
        return None
    return raw


NUMPY_FROM = 20_000  # answers in a packed line from which numpy checks and unpacks them


def _unpack(raw: bytes, count: int, where: int) -> list[list]:
    """The PACKED_COLUMNS of a packed line's data as lists, each value checked (_CHECKS);
    None where `elapsed` is NaN."""
    got = []
    for j, ((name, _, _, lo, hi), code) in enumerate(zip(_CHECKS, PACKED_TYPES)):
        a = array(code)
        a.frombytes(raw[j * count * 8:(j + 1) * count * 8])
        if sys.byteorder != "little":
            a.byteswap()
        col = a.tolist()
        if name == "elapsed":
            given = list(compress(col, map(eq, col, col)))  # NaN is not equal to itself
            if not all(map(math.isfinite, given)):
                raise Bad(f"line {where}: a review's elapsed is not a finite number")
            lo, hi = (min(given), max(given)) if given else (0, 0)
            col = [None if v != v else v for v in col]
            if lo < -_MAX or hi > _MAX:
                raise Bad(f"line {where}: a review's elapsed is out of range")
        elif min(col) < lo or max(col) > hi:
            raise Bad(f"line {where}: a review's {name} is out of range")
        got.append(col)
    _check_dues(map(add, got[_AT_I], got[_IVL_I]), where)
    return got


def _unpack_numpy(raw: bytes, count: int, where: int) -> list[list]:
    """`_unpack` for many answers, the checks in numpy (a million values in a millisecond
    where min and max take 30)."""
    import numpy as np

    got = []
    for j, ((name, _, _, lo, hi), code) in enumerate(zip(_CHECKS, PACKED_TYPES)):
        a = np.frombuffer(raw, dtype="<f8" if code == "d" else "<i8", count=count,
                          offset=j * count * 8)
        if name == "elapsed":
            none = np.isnan(a)
            given = a[~none]
            if not np.isfinite(given).all():
                raise Bad(f"line {where}: a review's elapsed is not a finite number")
            if given.size and (given.min() < -_MAX or given.max() > _MAX):
                raise Bad(f"line {where}: a review's elapsed is out of range")
            col = a.tolist()
            for i in np.flatnonzero(none).tolist():
                col[i] = None
        elif int(a.min()) < lo or int(a.max()) > hi:
            raise Bad(f"line {where}: a review's {name} is out of range")
        else:
            col = a.tolist()
        got.append(col)
    at = np.frombuffer(raw, dtype="<i8", count=count, offset=_AT_I * count * 8)
    ivl = np.frombuffer(raw, dtype="<i8", count=count, offset=_IVL_I * count * 8)
    dues = at + ivl  # |at| <= TIME_MAX and |ivl| <= 2**53: no int64 overflow
    if int(dues.min()) < 0 or int(dues.max()) > TIME_MAX:
        raise Bad(f"line {where}: a review's interval puts its due date out of range")
    return got


def readable(seg: Segment):
    """The segment's records one by one, as `quizforge sync --show` prints them: the header,
    then each answer as its own record ({"t": "review", "n", "deck", "card", "kind", "at",
    ...}: the columns of its row, its card named), then the other records."""
    yield seg.header
    cards, rest = seg.cards, REVIEW_COLUMNS[2:]
    for n, place, *values in zip(*seg.columns):
        yield {"t": "review", "n": n, **dict(zip(CARD_COLUMNS, cards[place])),
               **dict(zip(rest, values))}
    yield from seg.records


_INT, _STR, _NUM = {int}, {str}, {int, float}
# column -> (types allowed, may be null, lowest, highest)
_CHECKS = (("n", _INT, False, 1, _MAX), ("card", _INT, False, 0, _MAX),
           ("at", _INT, False, 0, TIME_MAX), ("rating", _INT, False, 1, 4),
           ("ms", _INT, False, 0, TIME_MAX), ("before", _INT, False, 0, 3),
           ("ivl_ms", _INT, False, -_MAX, _MAX), ("elapsed", _NUM, True, -_MAX, _MAX),
           ("cram", _INT, False, 0, 1))
_CARD = itemgetter(REVIEW_COLUMNS.index("card"))
_AFTER = (_INT, _INT, _NUM, _NUM, _INT, _INT, _INT, _INT)  # may be null: step, stab, diff, due


def check_cards(rec: dict, where: int) -> list[list]:
    """The [deck, card, kind] lists of a `cards` record, checked."""
    if rec.get("cols") != list(CARD_COLUMNS):
        raise Bad(f"line {where}: cards with columns {str(rec.get('cols'))[:80]} (this"
                  f" quizforge reads {', '.join(CARD_COLUMNS)})")
    rows = rec.get("rows")
    if not isinstance(rows, list) or not rows:
        raise Bad(f"line {where}: cards without rows")
    if set(map(type, rows)) != {list} or set(map(len, rows)) != {len(CARD_COLUMNS)}:
        raise Bad(f"line {where}: a card row that is not {len(CARD_COLUMNS)} values")
    for name, col in zip(CARD_COLUMNS, zip(*rows)):
        _check(col, _STR, name == "kind", None, None, where, f"a card's {name}")
    return rows


def check_reviews(rec: dict, where: int, columns_out: list[list] | None = None) -> list[list]:
    """The rows of a `reviews` record, after checking every value's type and range a column
    at a time (a million rows in a fraction of a second); Bad names what is wrong. Each
    column is added to the list of `columns_out` (one per column), if given."""
    cols, rows = rec.get("cols"), rec.get("rows")
    if cols != list(REVIEW_COLUMNS):
        raise Bad(f"line {where}: reviews with columns {str(cols)[:80]} (this quizforge reads"
                  f" {', '.join(REVIEW_COLUMNS)})")
    if not isinstance(rows, list) or not rows:
        raise Bad(f"line {where}: reviews without rows")
    if set(map(type, rows)) != {list} or set(map(len, rows)) != {len(cols)}:
        raise Bad(f"line {where}: a review row that is not {len(cols)} values")
    columns = list(zip(*rows))
    for (name, types, nullable, lo, hi), col in zip(_CHECKS, columns):
        _check(col, types, nullable, lo, hi, where, f"a review's {name}")
    _check_dues(map(add, columns[_AT_I], columns[_IVL_I]), where)
    afters = [a for a in columns[-1] if a is not None]
    if afters:
        if set(map(type, afters)) != {list} or set(map(len, afters)) != {len(_AFTER)}:
            raise Bad(f"line {where}: an 'after' that is not a list of {len(_AFTER)} values")
        for j, (types, col) in enumerate(zip(_AFTER, zip(*afters))):
            _check(col, types, j in (1, 2, 3, 4), -_MAX, _MAX, where, f"a review's after[{j}]")
        if not all_sane(afters):
            for row in rows:
                if row[-1] is not None and not sane_schedule(row[-1]):
                    row[-1] = None
            columns[-1] = tuple(row[-1] for row in rows)
    if columns_out is not None:
        for out, col in zip(columns_out, columns):
            out += col
    return rows


_AT_I, _IVL_I = REVIEW_COLUMNS.index("at"), REVIEW_COLUMNS.index("ivl_ms")


def _check_dues(dues, where: int) -> None:
    """An answer's time plus the interval its device gave it is the card's due date when
    the answer is its last: before 1970 or after 9999 it is no date this program shows."""
    dues = list(dues)
    if dues and (min(dues) < 0 or max(dues) > TIME_MAX):
        raise Bad(f"line {where}: a review's interval puts its due date out of range")


def sane_schedule(after: list) -> bool:
    """Whether a schedule an answer carries (`after`: state, step, stability, difficulty,
    due, reps, lapses, leech; its types checked) is one a scheduler makes: the card takes it
    only then, and is replayed from its answers otherwise (a damaged store's card, or a
    hand-made one: a state of 99 or a stability of -5 would break every screen)."""
    return all_sane([after])


def all_sane(afters: list[list]) -> bool:
    """Whether every one of these schedules is sane (`sane_schedule`), a column at a time
    (83,000 of them in a first sync: ~55 ms, where one at a time took ~85)."""
    from quizforge.scheduling.bounds import DIFFICULTY, MAX_COUNT, STABILITY

    if not afters:
        return True
    state, step, stability, difficulty, due, reps, lapses, leech = map(list, zip(*afters))

    def within(col, lo, hi) -> bool:
        if None in col:
            col = [v for v in col if v is not None]
        return not col or (lo <= min(col) and max(col) <= hi)

    return (within(state, 0, 3) and within(step, 0, MAX_COUNT)
            and within(stability, *STABILITY) and within(difficulty, *DIFFICULTY)
            and within(due, 0, TIME_MAX) and within(reps, 0, MAX_COUNT)
            and within(lapses, 0, MAX_COUNT) and within(leech, 0, 1)
            and (None not in stability and None not in difficulty
                 or all(s == 0 or (st is not None and d is not None)
                        for s, st, d in zip(state, stability, difficulty))))


def _check(col, types, nullable, lo, hi, where, name) -> None:
    got = set(map(type, col))
    if nullable and type(None) in got:
        col = [v for v in col if v is not None]
        got.discard(type(None))
    if not got <= types:
        wrong = " or ".join(sorted(t.__name__ for t in got - types))
        raise Bad(f"line {where}: {name} is {wrong}")
    if lo is None or not col:
        return
    if float in got and not all(map(math.isfinite, col)):
        raise Bad(f"line {where}: {name} is not a finite number")
    if min(col) < lo or max(col) > hi:
        raise Bad(f"line {where}: {name} is out of range")


# The other records, field by field: (types, may be null, lowest, highest); or (a frozenset
# of the strings allowed, may be null); or (UID, may be null): "<device>/<number>", as an
# undo or a mock answer names an answer; or a dict: a list of such records. A field a record
# lacks is null. A record of a type not listed (from a newer quizforge) is kept, not used.
UID = re.compile(r"[^/]+/[1-9][0-9]{0,15}")
_I64 = (-(1 << 63), (1 << 63) - 1)  # what SQLite stores as an integer (a seed given by hand)
_N_ = (_INT, False, 1, _MAX)
_TEXT = (_STR, False, None, None)
_TIME = (_INT, False, 0, TIME_MAX)
_COUNT = (_INT, False, 0, _MAX)
_FLAG = (_INT, False, 0, 1)
_INT64 = (_INT, False, *_I64)
_SCORE = (_NUM, False, 0, 1)
_EVENT = {"n": _N_, "deck": _TEXT, "card": _TEXT, "at": _TIME}
_MOCK_ANSWER = {"position": _COUNT, "deck": _TEXT, "card": _TEXT, "kind": _TEXT,
                "topics": _TEXT, "skills": _TEXT, "score": _SCORE,
                "rating": (_INT, False, 1, 4), "at": _TIME, "ms": _TIME, "review": (UID, True)}
RECORDS = {
    "segment": {"device": (_STR, False, None, None), "seq": _N_, "written_at": _TIME,
                "name": (_STR, True, None, None)},
    "undo": {"uid": (UID, False)},
    "suspend": _EVENT,
    "unsuspend": _EVENT,
    "attempt": {"n": _N_, "at": _TIME, "generator": _TEXT, "difficulty": _INT64, "form": _TEXT,
                "seed": _INT64, "skills": _TEXT, "correct": _FLAG, "score": _SCORE,
                "ms": _TIME, "solved": _FLAG, "tries": _COUNT, "hints": _COUNT,
                "revealed": _FLAG, "rating": (frozenset({"good", "hard", "again"}), True),
                "deck": (_STR, True, None, None), "card": (_STR, True, None, None),
                "kind": (_STR, True, None, None)},
    "mock": {"n": _N_, "started_at": _TIME, "ended_at": (_INT, True, 0, TIME_MAX),
             "minutes": _COUNT, "planned": _COUNT, "seed": _INT64, "decks": _TEXT,
             "tags": _TEXT, "ended": (frozenset({"done", "time", "quit", "interrupted"}), True),
             "answers": _MOCK_ANSWER},
    "setting": {"key": _TEXT, "at": _TIME},  # its value: run.py takes it or leaves it out
}


def check_record(rec: dict, where: int) -> None:
    """Bad, naming the field, if a record of a known type has a value no quizforge writes."""
    fields = RECORDS.get(rec["t"])
    if fields is None:
        return
    _check_fields(rec, fields, where, f"{rec['t']!r} record")
    if rec["t"] == "setting" and "value" not in rec:
        raise Bad(f"line {where}: a 'setting' record without a value")
    if rec["t"] == "attempt" and rec.get("deck") is not None and rec.get("card") is None:
        raise Bad(f"line {where}: an 'attempt' record with a deck and no card")


def _check_fields(rec: dict, fields: dict, where: int, what: str) -> None:
    for name, spec in fields.items():
        value = rec.get(name)
        if value is None:
            if isinstance(spec, dict) or not spec[1]:
                raise Bad(f"line {where}: {what} without {name}")
        elif isinstance(spec, dict):  # a list of records
            if type(value) is not list or set(map(type, value)) - {dict}:
                raise Bad(f"line {where}: {what}'s {name} is not a list of records")
            for item in value:
                _check_fields(item, spec, where, f"{what}'s {name}")
        elif spec[0] is UID or isinstance(spec[0], frozenset):
            if type(value) is not str or not (
                    UID.fullmatch(value) and int(value.rpartition("/")[2]) <= _MAX
                    if spec[0] is UID else value in spec[0]):
                raise Bad(f"line {where}: {what}'s {name} is not one this quizforge writes")
        else:
            types, _, lo, hi = spec
            t = type(value)
            if t not in types or lo is not None and (
                    value < lo or value > hi or t is float and not math.isfinite(value)):
                _check((value,), *spec, where, f"{what}'s {name}")  # (says what is wrong)


def write_atomic(path: Path, data: bytes, pause_point: str | None = None) -> None:
    """Write `data` to `path` through a hidden temporary file in the same folder: flushed,
    fsynced and renamed into place, so the name never holds a partial file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if pause_point:
            _pause(pause_point)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    try:  # the rename itself on disk
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _pause(point: str) -> None:
    """Tests stop a sync here (QUIZFORGE_SYNC_PAUSE=<point>:<path>): "paused" is written to
    the path (a FIFO the test reads), then the process waits for the test to kill it."""
    spec = os.environ.get("QUIZFORGE_SYNC_PAUSE")
    if not spec:
        return
    name, _, flag = spec.partition(":")
    if name != point:
        return
    import signal

    Path(flag).write_text("paused")
    while True:  # the test sends SIGKILL
        signal.pause()


pause = _pause
