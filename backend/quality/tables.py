"""Known answers (decided cases kept for calibration) and the specialists' blind answers to them."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from backend.installs.tables import Install
from backend.review.tables import ReviewCase


class KnownAnswer(Table, tablename="known_answers"):
    """A closed escalation whose specialist decision is the expected answer. Retired, never deleted."""

    case = ForeignKey(references=ReviewCase, unique=True)
    install = ForeignKey(references=Install)
    expected = Varchar(length=20)  # approve | reject: the case's final decision
    deciders = JSON(default=[])  # every specialist who decided on the install: never served to them
    marked_by = Varchar(length=128)
    marked_at = Timestamptz()
    retired_at = Timestamptz(null=True, default=None, index=True)


class CalibrationAnswer(Table, tablename="calibration_answers"):
    """One specialist's blind answer to a known answer; UNIQUE (known_answer, specialist) in the migration."""

    known_answer = ForeignKey(references=KnownAnswer)
    specialist = Varchar(length=128, index=True)
    answer = Varchar(length=20)  # approve | reject | request_info
    agreed = Boolean()
    created_at = Timestamptz()
