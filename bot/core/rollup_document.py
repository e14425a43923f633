"""Render a roll-up (bot.core.rollup) into the Word template
``templates/document/rollup.docx``, with the monthly summary's template checks and page
rules (bot.core.document): one rule, one place.

Pure core: no Telegram, no database. Like bot.core.document it loads python-docx and
docxtpl: import it where a document is made.

Template fields (see ``templates/document/README.md``):

========================  =========  ==============================================
field                     required   meaning
========================  =========  ==============================================
``title``                 no         the default title, "2015年第四季度重点工作推进情况汇总表"
                                     (templates/document/names.j2)
``draft``                 yes        true while a month of the range is still open
``draft_months``          no         while a draft: the open months, "2015-12"
``absent_months``         no         months of the range without a period, "2015-09"
``organisation``          no         organisation name, may be ""
``year``                  no         the range's first year
``rows``                  yes        the table rows, looped with ``{%tr for r in rows %}``
``r.no``                  yes        row number 1..n (序号)
``r.title``               yes        key work item (重点工作), its latest title
``r.former``              no         its earlier titles in the range, joined with "、"
``r.months``              yes        the months the item existed in, looped with
                                     ``{%p for m in r.months %}``
``m.heading``             yes        the month's heading, "10月"
``m.progress``            yes        that month's progress paragraphs (empty: not submitted)
``r.plan``                yes        paragraphs of the latest plan (empty: none submitted)
``r.plan_from``           no         the plan's month when it is not the item's last one
========================  =========  ==============================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.document import Properties, RowShape, TemplateFields, render_template
from bot.core.rollup import NumberedRollUpRow, RollUp, numbered_rollup_rows, rollup_subject
from bot.core.rollup import rollup_title as default_title
from bot.core.summary import one_line
from bot.core.texts import TEMPLATES

__all__ = ["ROLLUP_FIELDS", "ROLLUP_TEMPLATE", "render_rollup"]

ROLLUP_TEMPLATE: Path = TEMPLATES / "document" / "rollup.docx"

ROLLUP_FIELDS = TemplateFields(
    required=(
        "draft",
        "rows",
        "r.no",
        "r.title",
        "r.months",
        "m.heading",
        "m.progress",
        "r.plan",
    ),
    optional=(
        "title",
        "organisation",
        "year",
        "draft_months",
        "absent_months",
        "r.former",
        "r.plan_from",
    ),
)


def _context(rollup: RollUp, rows: list[NumberedRollUpRow]) -> dict[str, Any]:
    return {
        "title": default_title(rollup),
        "draft": rollup.draft,
        "draft_months": "、".join(map(str, rollup.open)),
        "absent_months": "、".join(map(str, rollup.absent)),
        "organisation": one_line(rollup.organisation),
        "year": rollup.range.first.year,
        "rows": rows,
    }


def _shape(row: NumberedRollUpRow) -> RowShape:
    """The progress cell holds a heading and at least one paragraph a month."""
    progress = [p for m in row.months for p in (m.heading, *(m.progress or [""]))]
    plan = [*([row.plan_from] if row.plan_from else []), *row.plan]
    return RowShape(row.title, 1 if row.former else 0, (progress, plan))


def render_rollup(rollup: RollUp, template: Path | None = None) -> bytes:
    """Render ``rollup`` into the template; return the .docx bytes."""
    rows = numbered_rollup_rows(rollup)
    properties = Properties.of(
        default_title(rollup), rollup_subject(rollup), rollup.organisation, draft=rollup.draft
    )
    shapes = [_shape(row) for row in rows]
    path = Path(template) if template is not None else ROLLUP_TEMPLATE
    return render_template(path, ROLLUP_FIELDS, _context(rollup, rows), shapes, properties)
