"""The job lifecycle and who a job is for."""

from __future__ import annotations

import enum
from datetime import timedelta


class JobState(enum.StrEnum):
    """`TRANSITIONS` below is the only place that says what may follow what."""

    PLANNED = "planned"  # created, nobody assigned yet
    ASSIGNED = "assigned"  # an installer's, or the customer's own (self-install: done by their approved install)
    IN_PROGRESS = "in_progress"  # an install was started from it; the job now follows that install
    DONE = "done"  # its install was approved
    CANCELLED = "cancelled"  # by a dispatcher, or its install was cancelled or rejected


TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.PLANNED: frozenset({JobState.ASSIGNED, JobState.CANCELLED}),
    # Re-assigned; or done when it is the customer's own and their install was approved.
    JobState.ASSIGNED: frozenset({JobState.ASSIGNED, JobState.IN_PROGRESS, JobState.DONE, JobState.CANCELLED}),
    JobState.IN_PROGRESS: frozenset({JobState.DONE, JobState.CANCELLED}),
    JobState.DONE: frozenset(),
    JobState.CANCELLED: frozenset(),
}

# A dispatcher may assign, re-assign or cancel only before the work began: an install in progress belongs
# to the installer who started it (only they can cancel it; its outcome moves the job on).
DISPATCHABLE = frozenset({JobState.PLANNED, JobState.ASSIGNED})
# The states in which an allocated asset stays reserved (the migration's partial unique index says the same).
LIVE = frozenset({JobState.PLANNED, JobState.ASSIGNED, JobState.IN_PROGRESS})
# On an installer's job list.
OPEN = frozenset({JobState.ASSIGNED, JobState.IN_PROGRESS})

# A time window lasts at most this long (the installer's list reads its index from today less this on)
# and starts at most this far ahead.
MAX_WINDOW = timedelta(hours=24)
MAX_AHEAD = timedelta(days=366)


class Assignee(enum.StrEnum):
    INSTALLER = "installer"
    CUSTOMER = "customer"  # the connection's customer installs it themselves


class VisitState(enum.StrEnum):
    OFFERED = "offered"  # windows offered, the customer has not picked one
    PLANNED = "planned"  # a window picked: a job exists (assigned, or waiting for a dispatcher)
    DONE = "done"  # its job is done
    CANCELLED = "cancelled"  # its job was cancelled, or the customer's install was settled meanwhile


LIVE_VISIT = frozenset({VisitState.OFFERED, VisitState.PLANNED})
