"""`quizforge` with no command: a home screen, like `git status` — what is due and new
today, the streak, the days to the interview if set, and the one command to run next. `quizforge --help` still shows help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rich.console import Group, RenderableType
from rich.text import Text

from quizforge.scheduling.plan import PlanLine


@dataclass(frozen=True)
class Home:
    now: datetime
    due: int  # deck cards due now
    new_left: int  # new cards today's cap still allows
    reviews_today: int
    streak_days: int
    next_due: datetime | None  # when something is due next, if nothing is now
    decks: int
    read_only: bool = False  # the store could only be read: studying would not be saved
    interview: date | None = None
    plan: PlanLine | None = None  # does the collection fit before the interview date
    day: date | None = None  # the study day (day_starts_at): 02:00 on a Saturday is Friday


def next_command(h: Home) -> tuple[str, str]:
    """The command to run next and why."""
    if h.read_only:
        return "quizforge doctor", "the data folder is read-only: nothing you study is saved"
    if h.decks == 0:
        return "quizforge decks", "no decks found: see where decks are looked for"
    if h.due or h.new_left:
        return "quizforge study", ""
    return "quizforge drill", "nothing is due: practise gradients by hand"


def home_view(h: Home) -> RenderableType:
    head = Text("quizforge", style="bold")
    day = h.day or h.now.astimezone().date()
    head.append(f"  {day:%a %d %b}", style="dim")
    counts = Text()
    counts.append(f"{h.due} due", style="green" if h.due else "dim")
    counts.append(" · ")
    counts.append(f"{h.new_left} new", style="blue" if h.new_left else "dim")
    counts.append(" today")
    done = Text(f"{h.reviews_today} answer{'s' if h.reviews_today != 1 else ''} today · ")
    done.append(
        f"{h.streak_days}-day streak" if h.streak_days else "no streak yet",
        style="yellow" if h.streak_days else "dim",
    )
    lines: list[RenderableType] = [head, counts, done]
    if h.interview is not None:
        days = (h.interview - day).days  # study days, as report and study count them
        if days >= 0:
            when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
            lines.append(Text(f"Interview {when} ({h.interview:%a %d %b})", style="bold magenta"))
            if h.plan is not None:
                line = Text(h.plan.text, style="" if h.plan.fits else "yellow")
                if h.plan.command:
                    line.append("  → ").append(h.plan.command, style="bold cyan")
                lines.append(line)
    elif h.decks:
        lines.append(Text("Interview date: quizforge config set interview_date YYYY-MM-DD",
                          style="dim"))
    if not h.due and not h.new_left and h.next_due is not None:
        from quizforge.scheduling.scheduler import format_interval

        wait = max(h.next_due - h.now, timedelta(0))
        lines.append(Text(f"Next card due in {format_interval(wait)}.", style="dim"))
    command, why = next_command(h)
    nxt = Text("\nNext: ")
    nxt.append(command, style="bold cyan")
    if why:
        nxt.append(f"  ({why})", style="dim")
    lines += [nxt, Text("quizforge --help lists every command.", style="dim")]
    return Group(*lines)


def gather(dirs, now: datetime) -> Home:
    from quizforge.cli.decks import load_decks_or_warn
    from quizforge.paths import config_path
    from quizforge.reports.scope import Calendar, Scope
    from quizforge.reports.today import today
    from quizforge.scheduling.config import load_config
    from quizforge.store import cards as store
    from quizforge.store import open_store

    cfg = load_config(config_path())
    loaded = load_decks_or_warn(dirs)
    with open_store() as db:
        store.sync_decks(db, loaded, now)  # cards never seen yet count as new
        t = today(db, now, Calendar(cfg.day_starts_at), Scope(), cfg)
        nd = store.next_due(db, [d.id for d in loaded], ())
        read_only = db.read_only
        line = None
        if cfg.interview is not None:
            from quizforge.reports.plan import plan_from_store
            from quizforge.scheduling.plan import plan_line

            plan = plan_from_store(db, loaded, cfg, now, simulate_workload=False)
            line = plan_line(plan) if plan is not None else None
    return Home(
        now, t.due_now, t.new_left, t.reviews, t.streak_days, nd, len(loaded), read_only,
        cfg.interview, line, day=t.date,
    )
