"""Progress reports: pure calculations over the store, each handed `now`."""

from quizforge.reports.report import Report, build_report
from quizforge.reports.scope import (
    Calendar,
    ReportError,
    Scope,
    check_scope,
    check_since,
    parse_day,
)

__all__ = [
    "Calendar",
    "Report",
    "ReportError",
    "Scope",
    "build_report",
    "check_scope",
    "check_since",
    "parse_day",
]
