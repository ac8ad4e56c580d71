"""An Anki package's media files (images, audio) copied beside the imported deck.

A package holds its media as numbered zip members and a `media` member naming them: JSON
(`{"0": "diagram.png"}`) in the older formats; in Anki 2.1.50+ packages a zstd-compressed
protobuf list (entry i is member `i`: its name, size and checksum), each file zstd-compressed
too. Files go into `<deck-file-stem>.media/` beside the deck; a name is kept only when it is a
plain file name (no path separator, not `.` or `..`, no control character), and copying stops
once the total passes `cap_bytes` (the rest are counted as left out).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from quizforge.errors import ImportFileError

CAP_BYTES = 512 << 20  # the most media one import copies
LIST_CAP = 64 << 20  # the most the media list (names) may unpack to
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_CHUNK = 1 << 20


@dataclass
class MediaCopy:
    folder: Path
    copied: int = 0
    bytes: int = 0
    refused: int = 0  # names that are not plain file names, and damaged files
    over_cap: int = 0  # left out once the size cap was reached


class _Damaged(Exception):
    pass


def media_folder(deck_file: Path) -> Path:
    """Where a deck file's media live: `<stem>.media/` beside it."""
    return deck_file.with_name(f"{deck_file.stem}.media")


def safe_name(name: str) -> str | None:
    """`name` when it is a plain file name; None otherwise."""
    if not name or name in (".", "..") or _BAD_NAME.search(name) or len(name) > 255:
        return None
    return name


def media_map(z: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Zip member -> file name, and whether the files are zstd-compressed."""
    if "media" not in z.namelist():
        return {}, False
    raw = z.read("media")
    try:
        names = json.loads(raw.decode("utf-8"))
        if isinstance(names, dict):
            return {str(k): str(v) for k, v in names.items()}, False
    except (UnicodeDecodeError, ValueError):
        pass
    from quizforge.importing.apkg import proto_fields

    import zstandard

    try:
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read(LIST_CAP + 1)
    except zstandard.ZstdError as e:
        raise ValueError(f"not JSON nor zstd: {e}") from None
    if len(data) > LIST_CAP:
        raise ValueError(f"the media list unpacks to more than {LIST_CAP >> 20} MiB")
    out = {}
    for i, entry in enumerate(proto_fields(data).get(1, [])):
        name = proto_fields(bytes(entry)).get(1, [b""])[0]
        out[str(i)] = bytes(name).decode("utf-8", "replace")
    return out, True


def copy_media(package: Path, deck_file: Path, cap_bytes: int = CAP_BYTES) -> MediaCopy:
    """Copy the package's media into the deck's media folder (replacing files of the same
    name); what was copied and left out."""
    result = MediaCopy(media_folder(deck_file))
    try:
        with zipfile.ZipFile(package) as z:
            members, zstd = media_map(z)
            present = set(z.namelist())
            for member, name in members.items():
                if member not in present:
                    continue
                safe = safe_name(name)
                if safe is None:
                    result.refused += 1
                    continue
                if result.bytes >= cap_bytes:
                    result.over_cap += 1
                    continue
                result.folder.mkdir(parents=True, exist_ok=True)
                try:
                    written = _copy_member(z, member, result.folder / safe, zstd,
                                           cap_bytes - result.bytes)
                except _Damaged:
                    result.refused += 1
                    continue
                if written is None:
                    result.over_cap += 1
                    continue
                result.copied += 1
                result.bytes += written
    except (zipfile.BadZipFile, ValueError, IndexError, KeyError, EOFError) as e:
        raise ImportFileError(f"{package}: its media list is damaged ({e})") from None
    except OSError as e:
        raise ImportFileError(f"cannot copy the media of {package}: {e.strerror or e}") \
            from None
    return result


def _copy_member(z: zipfile.ZipFile, member: str, dest: Path, zstd: bool,
                 room: int) -> int | None:
    """Bytes written, or None (and nothing left behind) when the file passes `room`."""
    tmp = dest.with_name(f".{dest.name}.part")
    written = 0
    try:
        with z.open(member) as src, tmp.open("wb") as out:
            stream = src
            if zstd:
                import zstandard

                stream = zstandard.ZstdDecompressor().stream_reader(src)
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                if written > room:
                    break
                out.write(chunk)
    except Exception as e:  # a damaged member (zlib, zstd): nothing of it is left behind
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise
        raise _Damaged from None
    if written > room:
        tmp.unlink(missing_ok=True)
        return None
    tmp.replace(dest)
    return written
