"""/mobile/v1/me/notifications: a customer's own notification preferences (no one else's, no other role)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.auth import requires_role
from backend.installs.context import InstallContext
from backend.notifications.enums import Moment
from backend.notifications.repository import PreferenceRec
from backend.notifications.service import preference_of, set_preference
from backend.principal import Principal, Role
from mobile_api.v1 import schemas as s


def _view(p: PreferenceRec) -> s.NotificationSettingsView:
    return s.NotificationSettingsView(
        email=p.email or p.provider_email,
        email_source="customer" if p.email else "account" if p.provider_email else None,
        email_pending=p.email_pending,
        language=p.language,  # type: ignore[arg-type]
        moments=list(p.moments),  # type: ignore[arg-type]
        email_enabled=p.email_enabled,
    )


class NotificationController(Controller):
    path = "/mobile/v1/me/notifications"
    tags = ["notifications"]
    guards = [requires_role(Role.CUSTOMER)]

    @get("/", operation_id="GetNotificationSettings")
    async def show(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]
    ) -> s.NotificationSettingsView:
        """Where and in which language you are told, and about what (defaults until you set them)."""
        return _view(await preference_of(request.user, ctx.clock()))

    @put("/", operation_id="SetNotificationSettings")
    async def replace(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        data: JSONBody[s.NotificationSettings],
    ) -> s.NotificationSettingsView:
        """Replace your preferences: address, language, which moments, e-mail on or off. A new address gets
        a message with a link; it is used once the link is followed (429 past a few new addresses a day)."""
        moments = [Moment(m) for m in data.moments]
        saved = await set_preference(request.user, data.email, data.language, moments, data.email_enabled, ctx.clock())
        return _view(saved)
