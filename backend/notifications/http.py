"""/notifications/v1/unsubscribe: the link in every e-mail, no login (the signed token is the proof).

GET shows a page with one button, POST unsubscribes: a link checker or a mail scanner that fetches the
link does not unsubscribe anyone. A mail client's one-click unsubscribe (RFC 8058) POSTs
`List-Unsubscribe=One-Click` to the same URL. Outside the JSON APIs, so no Idempotency-Key: doing it
twice is doing it once."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_200_OK

from backend.i18n import N_, preferred_language, translate
from backend.notifications.service import unsubscribe
from backend.notifications.tokens import subject_of

Token = Annotated[str, Parameter(min_length=3, max_length=400, description="the signed token from the e-mail")]

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{title}</title></head>
<body><h1>{title}</h1><p>{text}</p>{form}</body></html>
"""
_ASK = (
    N_("Unsubscribe from e-mail"),
    N_("Do you want to stop receiving e-mail about your installs?"),
    N_("Unsubscribe"),
)
_DONE = (
    N_("You are unsubscribed"),
    N_("You will get no more e-mail from us. You can switch it back on in the app."),
)


def _page(lang: str, title: str, text: str, form: str = "") -> Response[str]:
    return Response(
        _PAGE.format(lang=lang, title=title, text=text, form=form),
        media_type=MediaType.HTML,
        status_code=HTTP_200_OK,
        headers={"Cache-Control": "no-store"},
    )


class UnsubscribeController(Controller):
    path = "/notifications/v1/unsubscribe"
    tags = ["notifications"]
    opt = {"exclude_from_auth": True}

    @get("/", operation_id="ShowUnsubscribe")
    async def show(self, request: Request[Any, Any, State], token: FromQuery[Token]) -> Response[str]:
        """A page asking to confirm (a fetched link unsubscribes no one); 400 for a token we did not sign."""
        subject_of(request.app.state.ctx.settings.unsubscribe_secret, token)
        lang = preferred_language(request.headers.get("accept-language"))
        title, text, button = (translate(lang, msgid) for msgid in _ASK)
        form = f'<form method="post" action="?token={escape(token)}"><button type="submit">{button}</button></form>'
        return _page(lang, title, text, form)

    @post("/", operation_id="Unsubscribe", status_code=HTTP_200_OK)
    async def unsubscribe(self, request: Request[Any, Any, State], token: FromQuery[Token]) -> Response[str]:
        """Stop e-mail to the token's customer (RFC 8058 one-click, or the page's button); idempotent."""
        ctx = request.app.state.ctx
        await unsubscribe(ctx.settings.unsubscribe_secret, token, ctx.clock())
        lang = preferred_language(request.headers.get("accept-language"))
        return _page(lang, *(translate(lang, msgid) for msgid in _DONE))
