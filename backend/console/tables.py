"""Console sessions. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table


class ConsoleSession(Table, tablename="console_sessions"):
    """A signed-in specialist's or operator's browser: the cookie holds a random value, the database only its SHA-256,
    so a copy of the table opens no session. Signing out deletes the row."""

    token_hash = Varchar(length=64, unique=True)
    subject = Varchar(length=128)
    role = Varchar(length=16, default="specialist")  # specialist or admin: which pages the session opens
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)  # the sign-in token's exp; expired rows are deleted at the next sign-in
