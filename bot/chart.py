"""The /stats picture: per department how its key work items came in, and the office's
on-time rate by month, as one PNG readable on a phone.

matplotlib (the `charts` extra) is imported only when a chart is drawn, never at the bot's
start: it costs a third of a second and memory. Drawing uses a `Figure` with the Agg canvas,
not pyplot's global state, so two charts drawn at once in threads do not meet.

The labels need a CJK font: CHART_FONT if set, else one the host has (found through
matplotlib's font list and checked to have the glyphs), else the Noto Sans CJK SC file that
mplfonts ships; none of them is a ChartUnavailable, one line saying what to install.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core import texts
from bot.core.stats import Outcome, Stats, percent
from bot.core.texts import TerminalError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_PX, DPI = 1080, 100  # a phone screen's width, one pixel a dot
TYPE_PT = 21.0  # ≈ 29 px: the smallest type in the picture
TITLE_PT = 26.0
ROW_INCHES = 0.95  # one department: two lines of name, its bar and its returned bar
LINE_INCHES = 0.36  # each line of a department's name beyond two
LEGEND_COLUMNS = 3
MONTHS_LABELLED = 12  # month names, and each month's rate over its bar, for up to this many
NAME_WIDTH = 8  # CJK characters a line of a department's name at most (longer ones wrap)
PACKAGED_FONT = "fonts/NotoSansCJKsc-Regular.otf"  # inside the mplfonts package
# Names of CJK fonts, best first: what the host's fonts are tried in.
HOST_HINTS = (
    "CJK SC",
    "Source Han Sans SC",
    "WenQuanYi",
    "Microsoft YaHei",
    "PingFang",
    "SimHei",
    "Hei",
    "CJK",
    "Source Han",
    "Droid Sans Fallback",
    "Song",
)
SAMPLE = "部门按时逾期未交退回全单位率月"  # a font that lacks any of these shows boxes
COLOURS = {
    Outcome.ON_TIME: "#2e7d32",
    Outcome.LATE: "#f9a825",
    Outcome.MISSING: "#c62828",
    Outcome.NOT_DUE: "#bdbdbd",
}
RETURNED_COLOUR = "#6a1b9a"
RATE_COLOUR = "#1565c0"
_LOCK = threading.Lock()  # rcParams and the font list are process-wide: one draw at a time


class ChartUnavailable(TerminalError):
    """No chart can be drawn here: matplotlib or a CJK font is missing (texts: cli)."""


def _has_glyphs(path: str, index: int = 0) -> bool:
    from matplotlib import ft2font

    try:
        face = ft2font.FT2Font(path, face_index=index)
    except (OSError, RuntimeError, ValueError):
        return False
    charmap = face.get_charmap()
    return all(ord(c) in charmap for c in SAMPLE)


def host_font() -> str | None:
    """The family name of the host's best CJK font that really has the glyphs, or None."""
    from matplotlib import font_manager

    entries = [e for e in font_manager.fontManager.ttflist if e.style == "normal"]
    for hint in HOST_HINTS:
        found = [e for e in entries if hint.lower() in e.name.lower()]
        found.sort(key=lambda e: ("Serif" in e.name, "Mono" in e.name, abs(int(e.weight) - 400)))
        for entry in found:
            if _has_glyphs(entry.fname, int(getattr(entry, "index", 0))):
                return str(entry.name)
    return None


def packaged_font() -> Path | None:
    """mplfonts' Noto Sans CJK SC, found without importing mplfonts (it loads pyplot)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PACKAGED_FONT
    return path if path.is_file() else None


def _file_family(path: Path) -> str:
    """Register a font file with matplotlib; its family name."""
    from matplotlib import font_manager

    if not path.is_file() or not _has_glyphs(str(path)):
        raise ChartUnavailable("chart_font_unusable", path=str(path))
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


@lru_cache(maxsize=4)
def _family(setting: str | None) -> str:
    if setting:
        return _file_family(Path(setting).expanduser())
    found = host_font()
    if found is not None:
        return found
    packaged = packaged_font()
    if packaged is None:
        raise ChartUnavailable("chart_no_font")
    return _file_family(packaged)


def forget_font() -> None:
    """Look for the font again at the next chart (fonts installed meanwhile, tests)."""
    _family.cache_clear()


def chart_font(setting: str | None = None) -> str:
    """The CJK family the chart uses (CHART_FONT, the host's, or mplfonts'); raises
    ChartUnavailable when matplotlib or every font is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ChartUnavailable("charts_not_installed")
    return _family(setting or None)


# --- the words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """The picture's texts in one language (templates/messages/stats/)."""

    title: str
    subtitle: str
    departments: str
    office: str
    outcomes: dict[Outcome, str]
    returned: str
    months: list[str]  # one label per month of the range
    rates: list[str]  # the office's rate per month in % (the axis says so), "" for none
    running: list[bool]  # per month: it has a period whose due time has not come


def words(stats: Stats, language: str) -> Words:
    def say(name: str, **values: Any) -> str:
        return texts.plain(language, name, **values)

    first = stats.range.first.year != stats.range.last.year
    return Words(
        title=say("stats_title"),
        subtitle=say("stats_subtitle", range=str(stats.range), rate=percent(stats.rate)),
        departments=say("stats_departments"),
        office=say("stats_office"),
        outcomes={o: say(f"stats_{o.value}") for o in Outcome},
        returned=say("stats_returned"),
        months=[
            say("stats_month", year=m.month.year, month=m.month.month, with_year=first)
            for m in stats.months
        ],
        rates=["" if m.rate is None else str(round(m.rate * 100)) for m in stats.months],
        running=[m.tally.total > 0 and not m.settled for m in stats.months],
    )


# --- the picture ----------------------------------------------------------------------


def _wrap(name: str) -> str:
    """A department's name in lines of even length, none over NAME_WIDTH characters (CJK
    names have no spaces to break at): 网络新闻信息中心（新媒体中心） in two lines of 8, 7."""
    name = name.strip() or "?"
    lines = -(-len(name) // NAME_WIDTH)
    width = -(-len(name) // lines)
    return "\n".join(name[i : i + width] for i in range(0, len(name), width))


def _departments(ax: Axes, stats: Stats, said: Words) -> None:
    """Per department a stacked bar of on time / late / missing / not yet due, and under it a
    thin bar of how many were returned (an extra mark: those are in the stack already)."""
    from matplotlib.ticker import MaxNLocator

    rows = list(range(len(stats.departments)))
    left = [0] * len(rows)
    shown = [o for o in Outcome if o is not Outcome.NOT_DUE or stats.office.not_due]
    for outcome in shown:
        counts = [d.tally.count(outcome) for d in stats.departments]
        ax.barh(
            rows, counts, left=left, height=0.55, color=COLOURS[outcome],
            label=said.outcomes[outcome],
        )  # fmt: skip
        left = [a + b for a, b in zip(left, counts, strict=True)]
    returned = [d.tally.returned for d in stats.departments]
    ax.barh(
        [r + 0.42 for r in rows], returned, height=0.2, color=RETURNED_COLOUR,
        label=said.returned,
    )  # fmt: skip
    widest = max([*left, 1])
    for row, department in zip(rows, stats.departments, strict=True):
        rate = percent(department.rate)
        if rate:
            ax.annotate(rate, (left[row] + widest * 0.02, row), va="center", fontsize=TYPE_PT)
    ax.set_xlim(0, widest * 1.22)  # room for the rate after the longest bar
    ax.set_yticks(rows, [_wrap(d.name) for d in stats.departments], fontsize=TYPE_PT)
    ax.set_ylim(len(rows) - 0.35, -0.75)  # first department on top
    ax.tick_params(axis="x", labelsize=TYPE_PT)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))  # counts are whole
    ax.set_title(said.departments, fontsize=TYPE_PT, loc="left", pad=12)
    ax.spines[["top", "right"]].set_visible(False)


def _upright(label: str) -> tuple[str, dict[str, Any]]:
    """A label for a narrow column: Chinese written top to bottom, other words turned."""
    if " " not in label and len(label) <= 4:
        return "\n".join(label), {"linespacing": 1.0}
    return label, {"rotation": 90}


def _office(ax: Axes, stats: Stats, said: Words) -> None:
    """The office's on-time rate per month: a bar a month, its percentage over it."""
    columns = list(range(len(stats.months)))
    rates = [(m.rate or 0.0) * 100 for m in stats.months]
    ax.bar(columns, rates, width=0.7, color=RATE_COLOUR)
    # Each month's rate over its bar, for up to twelve months (more would overlap; the
    # axis tells then), and 未到期 where a month has none yet.
    labelled = zip(columns, rates, said.rates, said.running, strict=True)
    for column, rate, label, running in labelled if len(columns) <= MONTHS_LABELLED else ():
        if label:
            ax.annotate(label, (column, rate + 2), ha="center", va="bottom", fontsize=TYPE_PT)
        elif running:
            upright, style = _upright(said.outcomes[Outcome.NOT_DUE])
            ax.annotate(
                upright, (column, 3), ha="center", va="bottom", fontsize=TYPE_PT,
                color="#616161", **style,
            )  # fmt: skip
    ax.set_ylim(0, 118)
    ax.set_yticks([0, 50, 100], ["0%", "50%", "100%"], fontsize=TYPE_PT)
    step = max(1, -(-len(columns) // MONTHS_LABELLED))  # at most twelve month names
    ax.set_xticks(columns[::step], said.months[::step], fontsize=TYPE_PT)
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_title(said.office, fontsize=TYPE_PT, loc="left", pad=12)
    ax.spines[["top", "right"]].set_visible(False)


def _by_rows(handles: list[Any], labels: list[str]) -> tuple[list[Any], list[str]]:
    """Legend entries reordered so that matplotlib, which fills a legend column by column,
    shows them row by row in the order drawn: 按时 逾期 未交 / 未到期 被退回."""
    rows = -(-len(labels) // LEGEND_COLUMNS)
    order = [
        row * LEGEND_COLUMNS + column
        for column in range(LEGEND_COLUMNS)
        for row in range(rows)
        if row * LEGEND_COLUMNS + column < len(labels)
    ]
    return [handles[i] for i in order], [labels[i] for i in order]


def figure(stats: Stats, said: Words) -> Figure:
    from matplotlib.figure import Figure

    lines = [_wrap(d.name).count("\n") + 1 for d in stats.departments]
    extra = sum(max(0, n - 2) for n in lines) * LINE_INCHES
    top = ROW_INCHES * max(len(stats.departments), 3) + extra + 1.6  # + legend
    bottom = 4.2
    fig = Figure(figsize=(WIDTH_PX / DPI, top + bottom + 1.2), dpi=DPI, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.15, w_pad=0.15, hspace=0.06)  # type: ignore[call-arg,union-attr]
    # Two subfigures, so the months get the whole width, not what the names leave.
    parts = fig.subfigures(2, 1, height_ratios=[top, bottom], squeeze=False)
    upper = parts[0, 0]
    _departments(upper.subplots(), stats, said)
    handles, labels = _by_rows(*upper.axes[0].get_legend_handles_labels())
    upper.legend(  # above the bars, inside the picture: the layout makes room for it
        handles, labels, loc="outside upper center", ncols=LEGEND_COLUMNS, fontsize=TYPE_PT,
        frameon=False, handlelength=1.2, columnspacing=1.0,
    )  # fmt: skip
    _office(parts[1, 0].subplots(), stats, said)
    fig.suptitle(
        f"{said.title}\n{said.subtitle}", fontsize=TITLE_PT, fontweight="bold", linespacing=1.4
    )
    return fig


def draw(stats: Stats, language: str, font: str | None = None) -> bytes:
    """The PNG of `stats` with its words in `language`; `font`: CHART_FONT (a file)."""
    family = chart_font(font)
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    said = words(stats, language)
    with _LOCK, rc_context({"font.family": [family], "axes.unicode_minus": False}):
        fig = figure(stats, said)
        FigureCanvasAgg(fig)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
