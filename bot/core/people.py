"""The roles a person bound to a department has."""

from __future__ import annotations

from enum import StrEnum


class PersonRole(StrEnum):
    """What an invite makes of its user (the liaison table's `role`)."""

    LIAISON = "liaison"  # 联络员: writes and submits the department's report
    APPROVER = "approver"  # 部门负责人: approves or returns it before it counts
