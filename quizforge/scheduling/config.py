"""User settings for scheduling, kept in a small TOML file in the data directory."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from pathlib import Path

from quizforge.errors import ConfigError

_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NEW_ORDERS = ("mixed", "deck", "random")
# Bounds that keep every date the scheduler computes from a setting inside what datetime and
# SQLite can hold (a step of 10^11 days, or a limit of 10^23 cards, crashed every command).
MAX_STEP = timedelta(days=365)
MAX_LIMIT = 100_000  # new_per_day, reviews_per_day, leech_threshold
MAX_INTERVAL = 36_500  # days (100 years), py-fsrs's own default maximum
DATE_YEARS = 50  # interview_date within this many years of today


def parse_steps(text: str) -> tuple[timedelta, ...]:
    """'1m 10m' -> (1 minute, 10 minutes). An empty string means no steps."""
    out = []
    for tok in text.replace(",", " ").split():
        m = _STEP.match(tok)
        if not m:
            raise ConfigError(f"bad step {tok!r}: use a number and a unit s/m/h/d, e.g. '1m 10m'")
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
        if not seconds <= MAX_STEP.total_seconds():
            raise ConfigError(f"step {tok!r} is longer than a year (365d)")
        out.append(timedelta(seconds=seconds))
    return tuple(out)


@dataclass(frozen=True)
class Config:
    desired_retention: float = 0.9
    learning_steps: str = "1m 10m"
    relearning_steps: str = "10m"
    maximum_interval: int = 36500  # days
    new_per_day: int = 20
    reviews_per_day: int = 200
    leech_threshold: int = 8  # lapses before a card is suspended as a leech
    day_starts_at: int = 4  # local hour at which a new study day begins (Anki's default)
    fuzz: bool = True  # spread review intervals a little so cards don't clump
    load_balance: bool = True  # within the fuzz range, prefer days with fewer reviews due
    interview_date: str = ""  # YYYY-MM-DD: reviews aimed at it, home screen countdown; "" for none
    # FSRS-6's 21 weights, as `quizforge optimize` fitted them; () for py-fsrs's defaults.
    parameters: tuple[float, ...] = ()
    # Cards are shown in this language where a translation overlay has them (zh-TW: the
    # bundled backprop deck); English otherwise. One schedule per card whatever the language.
    language: str = "en"
    # Terminals in CJK set-ups often draw σ, ∂, −, · two cells wide: "2" draws the screens for
    # them, "1" as most terminals do, "auto" by the locale (wide for zh, ja, ko).
    ambiguous_width: str = "auto"
    # The order new cards are introduced in (quizforge/study/new_order.py): "mixed" interleaves
    # decks (core decks first, each deck's share by size and weight) and card types; "deck"
    # takes the decks one after the other, each in file order; "random" shuffles them.
    new_order: str = "mixed"
    # Minutes a day the learner can study; `quizforge plan` proposes what to drop to fit
    # them before the interview. 0: no budget.
    daily_minutes: int = 0
    # A folder kept in step between machines (Syncthing, Dropbox, a git repository):
    # `quizforge sync` uses it, and study, drill and mock sync through it quietly. "": none.
    sync_dir: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(float(v) for v in self.parameters))
        problems = []
        if not 0.7 <= self.desired_retention <= 0.99:
            problems.append(f"desired_retention must be between 0.7 and 0.99, got {self.desired_retention}")
        for name, lo, hi in (("maximum_interval", 1, MAX_INTERVAL),
                             ("leech_threshold", 1, MAX_LIMIT),
                             ("new_per_day", 0, MAX_LIMIT), ("reviews_per_day", 0, MAX_LIMIT)):
            if not lo <= getattr(self, name) <= hi:
                problems.append(f"{name} must be from {lo} to {hi:,}, got {getattr(self, name)}")
        if not 0 <= self.day_starts_at <= 23:
            problems.append(f"day_starts_at must be an hour 0-23, got {self.day_starts_at}")
        if self.interview_date:
            try:
                day = date.fromisoformat(self.interview_date)
            except ValueError:
                problems.append(f"interview_date must be a date YYYY-MM-DD, got {self.interview_date!r}")
            else:
                if (problem := _date_problem("interview_date", day)) is not None:
                    problems.append(problem)
        for name in ("learning_steps", "relearning_steps"):
            try:
                parse_steps(getattr(self, name))
            except ConfigError as e:
                problems.append(f"{name}: {e}")
        problems += parameter_problems(self.parameters)
        from quizforge.decks.language import language_problem

        if (problem := language_problem(self.language)) is not None:
            problems.append(problem)
        if self.ambiguous_width not in ("auto", "1", "2"):
            problems.append(f"ambiguous_width must be auto, 1 or 2, got {self.ambiguous_width!r}")
        if self.new_order not in NEW_ORDERS:
            problems.append(
                f"new_order must be {', '.join(NEW_ORDERS[:-1])} or {NEW_ORDERS[-1]},"
                f" got {self.new_order!r}"
            )
        if not 0 <= self.daily_minutes <= 1440:
            problems.append(
                f"daily_minutes must be 0 (no budget) to 1440, got {self.daily_minutes}")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def interview(self) -> date | None:
        return date.fromisoformat(self.interview_date) if self.interview_date else None

    @property
    def learning(self) -> tuple[timedelta, ...]:
        return parse_steps(self.learning_steps)

    @property
    def relearning(self) -> tuple[timedelta, ...]:
        return parse_steps(self.relearning_steps)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}; known: {', '.join(known)}")
        kwargs = {}
        for key, value in data.items():
            kwargs[key] = _coerce(key, value, known[key].type)
        return cls(**kwargs)

    def with_value(self, key: str, raw: str) -> Config:
        """A copy with one setting changed from its text form (for `config set`)."""
        data = self.to_dict()
        if key not in data:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(data)}")
        data[key] = raw
        return Config.from_dict(data)


def _date_problem(key: str, day: date) -> str | None:
    from quizforge import clock

    today = clock.now().date()
    if abs(day.year - today.year) > DATE_YEARS:
        return f"{key} must be within {DATE_YEARS} years of today, got {day.isoformat()}"
    return None


N_PARAMETERS = 21  # FSRS-6


def parameter_problems(values: tuple[float, ...]) -> list[str]:
    """Every reason `values` cannot be FSRS-6 parameters (py-fsrs's bounds), all at once."""
    if not values:
        return []
    if len(values) != N_PARAMETERS:
        return [f"parameters must be {N_PARAMETERS} numbers (FSRS-6), got {len(values)}"]
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    out = [
        f"w{i} = {v:g} (allowed {lo:g} to {hi:g})"
        for i, (v, lo, hi) in enumerate(zip(values, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS))
        if not lo <= v <= hi
    ]
    return [f"parameters out of range: {', '.join(out)}"] if out else []


def parse_parameters(value) -> tuple[float, ...]:
    """A TOML array, or text such as '0.21 1.29 ...' / '[0.21, 1.29, ...]' ('' or '()' for
    none), as a tuple of floats. The count and the ranges are checked by Config."""
    if isinstance(value, str):
        text = value.strip().strip("[]()").replace(",", " ")
        value = text.split()
    if not isinstance(value, (list, tuple)):
        raise TypeError
    out = []
    for v in value:
        if isinstance(v, bool):
            raise TypeError
        x = float(v)
        if not math.isfinite(x):
            raise ValueError
        out.append(x)
    return tuple(out)


def _coerce(key: str, value, type_name: str):
    if type_name == "tuple[float, ...]":
        try:
            return parse_parameters(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key} must be {N_PARAMETERS} numbers separated by spaces or commas "
                f"(or empty for the FSRS defaults), got {value!r}"
            ) from None
    try:
        if type_name == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "on", "1"):
                return True
            if text in ("false", "no", "off", "0"):
                return False
            raise ValueError
        if type_name == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if type_name == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        kind = {"int": "a whole number", "float": "a number", "bool": "true or false"}[type_name]
        raise ConfigError(f"{key} must be {kind}, got {value!r}") from None


def load_config(path: Path) -> Config:
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise ConfigError(f"{path}: values nested too deeply (no setting is nested)") from None
    try:
        return Config.from_dict(data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def save_config(config: Config, path: Path) -> None:
    lines = ["# quizforge settings; `quizforge config` shows them, `quizforge config set` edits them."]
    for key, value in config.to_dict().items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple):
            text = "[" + ", ".join(repr(v) for v in value) + "]"
        elif isinstance(value, str):
            text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            text = repr(value)
        lines.append(f"{key} = {text}")
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ConfigError(f"cannot save the settings to {path}: {e.strerror or e}") from None
