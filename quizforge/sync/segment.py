"""The files in the sync folder: one folder per device, append-only segments of JSON lines.

    DIR/quizforge-sync/<device>/device.json      which store owns the folder (its nonce)
    DIR/quizforge-sync/<device>/seg-00000001.jsonl

A segment is written to a hidden temporary name in the same folder, flushed to disk and
renamed into place, and never changed after. Its first line is a header, then one record per
line, then a trailer. Every line but the trailer ends with `"c":"xxxxxxxx"`: the CRC-32 (hex)
of the line's bytes before `,"c":`. The trailer counts the lines before it and gives the
SHA-256 of their bytes. A file whose last line is not a valid trailer is not complete yet (a
sync tool copied it mid-write): readers skip it and read it once it is.
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import json

FORMAT = 1
ROOT = "quizforge-sync"
SEGMENT = re.compile(r"^seg-(\d{8})\.jsonl$")
_SEQ_IN_COPY = re.compile(r"^seg-(\d{8})")


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


def encode(header: dict, records) -> bytes:
    """A whole segment: header, records (any iterable of dicts), trailer."""
    lines = [line({"t": "segment", "format": FORMAT, **header})]
    lines += [line(r) for r in records]
    body = b"\n".join(lines) + b"\n"
    trailer = dumps({"t": "end", "count": len(lines),
                     "sha256": hashlib.sha256(body).hexdigest()})
    return body + trailer + b"\n"


class Incomplete(Exception):
    """The file is not (yet) a whole segment."""


@dataclass
class Segment:
    header: dict
    records: list[dict]


def decode(data: bytes) -> Segment:
    """The segment in `data`; Incomplete if its trailer is missing or does not match."""
    if not data.endswith(b"\n"):
        raise Incomplete("no trailer")
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    body, tail = data[:cut], data[cut:-1]
    try:
        trailer = loads(tail)
    except ValueError:
        raise Incomplete("no trailer") from None
    if not isinstance(trailer, dict) or trailer.get("t") != "end":
        raise Incomplete("no trailer")
    if hashlib.sha256(body).hexdigest() != trailer.get("sha256"):
        raise Incomplete("checksum does not match")
    lines = body.split(b"\n")[:-1]
    if len(lines) != trailer.get("count") or not lines:
        raise Incomplete("line count does not match")
    # The SHA-256 of the whole body matched: every line is as written, and each line's own
    # CRC (there for a line read on its own) need not be checked again.
    out = []
    append = out.append
    for raw in lines:
        rec = loads(raw)
        rec.pop("c", None)
        append(rec)
    header = out[0]
    if header.get("t") != "segment" or not isinstance(header.get("device"), str):
        raise Incomplete("no header")
    if header.get("format") != FORMAT:
        raise Incomplete(f"format {header.get('format')} (this quizforge reads {FORMAT})")
    return Segment(header, out[1:])


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
