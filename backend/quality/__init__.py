"""Measuring the automation and the specialists: QA samples of automatic approvals, known answers."""
