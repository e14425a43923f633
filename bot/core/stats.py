"""Who is on time: per department and per month, how the key work items came in.

Pure core: storage (storage/stats.py) reads one `ItemRecord` per department × key work item ×
period; the rules are here, the picture is bot/chart.py.

The definitions (the README's "/stats" section says the same):

- **on time** (按时): the part counts now (submitted, or approved) and its first handed-in
  version came in by the due time. A version returned and handed in again after the due
  time stays on time: the liaison was punctual, the revision is what "returned" marks.
  With an approver, "handed in" is the liaison's submission, not the approval.
- **late** (逾期): it counts, but its first version came in after the due time.
- **missing** (未交): nothing counts (no version, a draft, one awaiting approval, or one
  returned and not handed in again) and the due time has passed, or the month is closed.
- **not yet due** (未到期): nothing counts yet in an open month before its due time; shown,
  but left out of the on-time rate.
- **returned** (被退回): was returned for revision at least once (the audit trail's
  returns). An extra mark, not an outcome: a returned part is also one of the above, so
  the chart draws it as its own thin bar beside the stack, never inside it.
- Imported months (`huibao import`) carry the due time as their time handed in: they
  count as on time, as /status counts them; the chart does not mark them apart.
- **on-time rate** (按时率): on time ÷ items due (on time + late + missing), over the
  months whose due time has passed (or that are closed): a month still running has no
  rate, as its parts handed in early would flatter it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.periods import Month, MonthRange, Span, parse_month
from bot.core.status import SubmissionStatus

DEFAULT_MONTHS = 12  # the default range: the newest twelve periods


class Outcome(StrEnum):
    """How one department's part of a key work item came in (texts: ``stats_<value>``)."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_DUE = "not_due"


@dataclass(frozen=True)
class ItemRecord:
    """One department's part of one key work item in one period, as storage reads it."""

    month: str  # "2015-10"
    due_at: datetime  # UTC
    is_open: bool
    department_id: int
    department: str  # the name the period knows it by
    status: str | None  # the submission's status; None: no submission
    first_handed_in: datetime | None  # the earliest handed-in version, UTC
    returned: bool  # returned for revision at least once


def outcome_of(record: ItemRecord, now: datetime) -> Outcome:
    if record.status == SubmissionStatus.SUBMITTED and record.first_handed_in is not None:
        return Outcome.LATE if record.first_handed_in > record.due_at else Outcome.ON_TIME
    if record.is_open and now <= record.due_at:
        return Outcome.NOT_DUE
    return Outcome.MISSING


@dataclass
class Tally:
    """Counts of parts by outcome, and how many of them were ever returned."""

    on_time: int = 0
    late: int = 0
    missing: int = 0
    not_due: int = 0
    returned: int = 0

    def add(self, outcome: Outcome, returned: bool) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        self.returned += int(returned)

    def count(self, outcome: Outcome) -> int:
        value: int = getattr(self, outcome.value)
        return value

    @property
    def due(self) -> int:
        """The parts whose due time has come: what the on-time rate divides by."""
        return self.on_time + self.late + self.missing

    @property
    def total(self) -> int:
        return self.due + self.not_due

    @property
    def rate(self) -> float | None:
        """On time ÷ due; None when nothing was due yet."""
        return self.on_time / self.due if self.due else None


@dataclass(frozen=True)
class DepartmentStats:
    id: int
    name: str  # as the newest period of the range knows it
    tally: Tally  # the whole range
    rated: Tally  # the months whose due time has passed: what its rate is of
    months: dict[str, Tally] = field(default_factory=dict)  # "2015-10" → its tally

    @property
    def rate(self) -> float | None:
        return self.rated.rate


@dataclass(frozen=True)
class MonthStats:
    month: Month
    tally: Tally  # the whole office; total 0: no period (or nothing owed) that month

    @property
    def settled(self) -> bool:
        """Its due time has passed (or it is closed): nothing in it is still to come."""
        return self.tally.total > 0 and self.tally.not_due == 0

    @property
    def rate(self) -> float | None:
        return self.tally.rate if self.settled else None


@dataclass(frozen=True)
class Stats:
    range: MonthRange
    departments: list[DepartmentStats]  # roster order
    months: list[MonthStats]  # every month of the range, in order
    office: Tally  # the whole range
    rated: Tally  # the settled months only

    @property
    def rate(self) -> float | None:
        return self.rated.rate


def default_range(months: Iterable[str], count: int = DEFAULT_MONTHS) -> MonthRange | None:
    """The newest `count` months that have periods, first to last; None without periods."""
    found = sorted({parse_month(m) for m in months})[-count:]
    if not found:
        return None
    if len(found) == 1:
        return MonthRange(found[0], found[0], Span.MONTH)
    return MonthRange(found[0], found[-1], Span.MONTHS)


def tally(
    wanted: MonthRange,
    records: Iterable[ItemRecord],
    now: datetime,
    order: dict[int, int] | None = None,
) -> Stats:
    """Count `records` (those outside the range are ignored) per department (in `order`:
    department id → roster position; then by id) and per month."""
    months = {str(m): MonthStats(m, Tally()) for m in wanted.months()}
    departments: dict[int, DepartmentStats] = {}
    names: dict[int, str] = {}  # the newest month's name of each department
    newest: dict[int, str] = {}
    office = Tally()
    for record in records:
        month = months.get(record.month)
        if month is None:
            continue
        outcome = outcome_of(record, now)
        found = departments.setdefault(
            record.department_id, DepartmentStats(record.department_id, "", Tally(), Tally())
        )
        for counted in (
            found.tally,
            found.months.setdefault(record.month, Tally()),
            month.tally,
            office,
        ):
            counted.add(outcome, record.returned)
        if record.month >= newest.get(record.department_id, ""):
            newest[record.department_id] = record.month
            names[record.department_id] = record.department
    settled = {key for key, month in months.items() if month.settled}
    positions = order or {}
    ranked = sorted(departments.values(), key=lambda d: (positions.get(d.id, 0), d.id))
    return Stats(
        wanted,
        [
            DepartmentStats(d.id, names[d.id], d.tally, _sum(d.months, settled), d.months)
            for d in ranked
        ],
        list(months.values()),
        office,
        _sum({k: m.tally for k, m in months.items()}, settled),
    )


def _sum(tallies: dict[str, Tally], months: set[str]) -> Tally:
    """The tallies of these months added up."""
    total = Tally()
    for key, found in tallies.items():
        if key in months:
            for name in ("on_time", "late", "missing", "not_due", "returned"):
                setattr(total, name, getattr(total, name) + getattr(found, name))
    return total


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{round(rate * 100)}%"


def summary_values(stats: Stats) -> dict[str, object]:
    """What the chat's caption and the terminal's line say of a range (the counts of the
    months whose due time has passed, as the rate; returns of the whole range)."""
    counted = stats.rated
    return {
        "range": str(stats.range),
        "rate": percent(stats.rate),
        "on_time": counted.on_time,
        "due": counted.due,
        "late": counted.late,
        "missing": counted.missing,
        "returned": stats.office.returned,
    }
