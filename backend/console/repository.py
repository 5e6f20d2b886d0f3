"""Every query of the console: its sessions. One statement each; callers need no transaction."""

from __future__ import annotations

from datetime import datetime

from backend.console.tables import ConsoleSession


async def insert_session(token_hash: str, subject: str, role: str, now: datetime, expires_at: datetime) -> None:
    await ConsoleSession.insert(
        ConsoleSession(token_hash=token_hash, subject=subject, role=role, created_at=now, expires_at=expires_at)
    )


async def delete_expired_sessions(now: datetime) -> None:
    await ConsoleSession.delete().where(ConsoleSession.expires_at <= now)


async def live_session(token_hash: str, now: datetime) -> tuple[str, str] | None:
    """The subject and role of an unexpired session; None for an unknown, ended or expired one."""
    row = (
        await ConsoleSession.select(ConsoleSession.subject, ConsoleSession.role)
        .where((ConsoleSession.token_hash == token_hash) & (ConsoleSession.expires_at > now))
        .first()
    )
    return (row["subject"], row["role"]) if row else None


async def delete_session(token_hash: str) -> None:
    await ConsoleSession.delete().where(ConsoleSession.token_hash == token_hash)
