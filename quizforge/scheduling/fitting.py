"""Fit FSRS-6's parameters to one learner's review log (`quizforge optimize`).

The review log becomes fsrs-rs training items the way Anki builds them: per card, the
answers in time order; one item per answer given a day or more after the card's previous
answer, holding the card's whole history up to and including that answer (fsrs-rs learns
to predict the last one). First answers and same-day answers (learning steps) are history
only: FSRS's forgetting curve predicts recall after whole days, and py-fsrs counts elapsed
time the same way, `(now - last_review).days`, so delta_t here is whole 24-hour periods.

What is not a training answer, and why:
- cram answers (`study --cram`, revlog.cram = 1): practice outside the schedule, which the
  card's stored state never saw; left out of the history too, as Anki leaves out cramming
  in filtered decks, so the model is fitted to the same history the scheduler keeps.
- drill answers (cards of kind `skill`, the drill levels, and `generated`, a deck card
  that shows a fresh drill problem): each answer is a new random problem graded by the
  drill checker, so it measures a procedure on new numbers, not the recall of one fixed
  item that FSRS's forgetting curve describes.

fsrs_rs_python (Rust, no PyTorch) is imported inside the functions that call it, so only
`quizforge optimize` pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from quizforge.errors import QuizforgeError
from quizforge.scheduling.config import N_PARAMETERS
from quizforge.scheduling.scheduler import State

DAY_MS = 86_400_000
# fsrs-rs (training.rs, compute_parameters) trains all 21 weights only from 64 training
# items on; from 8 to 63 it fits the four initial stabilities alone, and below 8 it hands
# the defaults back. Below 64 there is nothing worth comparing, so we refuse.
MIN_REVIEWS = 64
DRILL_KINDS = ("skill", "generated")


class NotEnoughReviews(QuizforgeError):
    """The review log is too short for fsrs-rs to fit all the parameters."""


@dataclass(frozen=True)
class LogCounts:
    """How the review log splits: what FSRS trains on, and what is left out."""

    total: int = 0  # every row of the review log
    cram: int = 0  # left out: practice outside the schedule
    drill: int = 0  # left out: drill levels and generated cards (scheduled answers)
    no_start: int = 0  # left out: cards whose history lacks its first answer (state new)
    history_only: int = 0  # first and same-day answers: history, never predicted
    training: int = 0  # answers a day or more after the previous one: the training items
    cards: int = 0  # cards with at least one training item

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass(frozen=True)
class Metrics:
    """fsrs-rs's evaluation of a parameter set on the training items: log loss (recency-
    weighted binary cross-entropy of the predicted recall) and RMSE over its bins."""

    log_loss: float
    rmse_bins: float

    def to_dict(self) -> dict:
        return {"log_loss": round(self.log_loss, 6), "rmse_bins": round(self.rmse_bins, 6)}


@dataclass(frozen=True)
class FitResult:
    counts: LogCounts
    default: Metrics  # py-fsrs's default parameters
    current: Metrics | None  # the parameters in config.toml; None when they are the defaults
    fitted: Metrics
    parameters: tuple[float, ...]  # fitted, rounded to 4 places and within py-fsrs's bounds
    current_parameters: tuple[float, ...]  # () for the defaults

    @property
    def baseline(self) -> Metrics:
        """What the fitted parameters must beat: the ones in use now."""
        return self.current or self.default

    @property
    def better(self) -> bool:
        """Lower log loss than the parameters in use: the quantity fsrs-rs minimises, and a
        proper score (RMSE over bins is shown, not used to decide)."""
        return self.fitted.log_loss < self.baseline.log_loss

    def to_dict(self) -> dict:
        return {
            "reviews": self.counts.to_dict(),
            "default": self.default.to_dict(),
            "current": self.current.to_dict() if self.current else None,
            "fitted": self.fitted.to_dict(),
            "better": self.better,
            "parameters": list(self.parameters),
            "current_parameters": list(self.current_parameters),
        }


# -- the review log as training items (pure) ------------------------------------------------
@dataclass(frozen=True)
class History:
    """One card's answers, oldest first: (rating, whole days since the previous answer,
    0 for the first), and the times (ms) they were given."""

    card: int
    reviews: tuple[tuple[int, int], ...]
    times: tuple[int, ...]
    ids: tuple[int, ...] = ()  # review-log row ids, when the rows carried them

    def label_indexes(self) -> list[int]:
        """Answers FSRS predicts: a day or more after the previous one."""
        return [i for i, (_, dt) in enumerate(self.reviews) if i > 0 and dt > 0]


def histories(rows: Iterable[Sequence[int]]) -> tuple[list[History], int]:
    """Per-card histories from review rows (card, reviewed_at ms, rating, state_before
    [, revlog id]), sorted by card then time. A history starts at the card's last answer given as new (a
    card reset to new starts over); a card with no such answer has lost its beginning and
    is left out. Returns the histories and how many rows were left out that way."""
    out: list[History] = []
    dropped = 0
    card: int | None = None
    block: list[Sequence[int]] = []

    def flush() -> None:
        nonlocal dropped
        if not block:
            return
        starts = [i for i, r in enumerate(block) if r[3] == State.NEW]
        if not starts:
            dropped += len(block)
            return
        kept = block[starts[-1] :]
        dropped += starts[-1]
        reviews, times, prev = [], [], None
        for r in kept:
            at = r[1]
            dt = 0 if prev is None else max(0, (at - prev) // DAY_MS)
            reviews.append((int(r[2]), int(dt)))
            times.append(int(at))
            prev = at
        ids = tuple(r[4] for r in kept) if len(kept[0]) > 4 else ()
        out.append(History(card, tuple(reviews), tuple(times), ids))

    for row in rows:
        if row[0] != card:
            flush()
            card, block = row[0], []
        block.append(row)
    flush()
    return out, dropped


def training_sequences(hs: Sequence[History]) -> list[tuple[int, list[tuple[int, int]]]]:
    """(time of the predicted answer, the history up to and including it) for every
    training item, oldest first: fsrs-rs weights recent items more and expects this order."""
    items = []
    for h in hs:
        for i in h.label_indexes():
            items.append((h.times[i], list(h.reviews[: i + 1])))
    items.sort(key=lambda x: x[0])
    return items


# -- the review log, as the store hands it over ---------------------------------------------
def log_histories(totals: Sequence[int],
                  rows: Iterable[Sequence[int]]) -> tuple[list[History], LogCounts]:
    """The training histories and how the whole log splits, from the store's
    `fitting_log`: `totals` is (answers, cram answers, drill answers) and `rows` the
    non-cram answers of cards that are not drills, by card and time."""
    total, cram, drill = totals
    hs, dropped = histories(rows)
    training = sum(len(h.label_indexes()) for h in hs)
    kept = sum(len(h.reviews) for h in hs)
    counts = LogCounts(
        total=total,
        cram=cram,
        drill=drill,
        no_start=dropped,
        history_only=kept - training,
        training=training,
        cards=sum(1 for h in hs if h.label_indexes()),
    )
    return hs, counts


def check_enough(counts: LogCounts) -> None:
    if counts.training < MIN_REVIEWS:
        missing = MIN_REVIEWS - counts.training
        raise NotEnoughReviews(
            f"not enough reviews to fit FSRS yet: {counts.training} of the {MIN_REVIEWS} "
            f"needed, {missing} more to go (reviews a day or more after the card's "
            "previous one count; cram and drill answers do not)"
        )


# -- fitting and evaluating (fsrs-rs) -------------------------------------------------------
def fit(
    hs: Sequence[History],
    counts: LogCounts,
    current: Sequence[float] = (),
    relearning_steps: int = 1,
) -> FitResult:
    """Fit the parameters with fsrs-rs and evaluate the default, the current and the fitted
    ones on the same training items."""
    import fsrs_rs_python as rs
    from fsrs.scheduler import DEFAULT_PARAMETERS

    check_enough(counts)
    items = [
        rs.FSRSItem([rs.FSRSReview(rating, dt) for rating, dt in seq])
        for _, seq in training_sequences(hs)
    ]
    raw = rs.FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(
        items, enable_short_term=True, num_relearning_steps=max(1, relearning_steps)
    )
    fitted = tidy(raw)
    default = evaluate(items, DEFAULT_PARAMETERS)
    current = tuple(current)
    in_use = current and current != tuple(DEFAULT_PARAMETERS)
    cur = evaluate(items, current) if in_use else None
    return FitResult(counts, default, cur, evaluate(items, fitted), fitted, current)


def evaluate(items, parameters: Sequence[float]) -> Metrics:
    import fsrs_rs_python as rs

    e = rs.FSRS(list(parameters)).evaluate(items)
    return Metrics(float(e.log_loss), float(e.rmse_bins))


def tidy(raw: Sequence[float]) -> tuple[float, ...]:
    """fsrs-rs's f32 weights rounded to 4 places (as Anki shows them) and kept inside
    py-fsrs's bounds, which rounding could otherwise cross by a hair."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

    if len(raw) != N_PARAMETERS:
        raise QuizforgeError(f"fsrs-rs returned {len(raw)} parameters, expected {N_PARAMETERS}")
    return tuple(
        min(max(round(float(v), 4), lo), hi)
        for v, lo, hi in zip(raw, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS)
    )
