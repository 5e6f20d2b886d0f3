"""The links in our e-mail, no login (the signed token is the proof):
- /notifications/v1/unsubscribe, in every message;
- /notifications/v1/address, in the message that asks whether a typed address is the customer's.

GET shows a page with one button, POST does it: a link checker or a mail scanner that fetches the
link does nothing. A mail client's one-click unsubscribe (RFC 8058) POSTs `List-Unsubscribe=One-Click`
to the unsubscribe URL. Outside the JSON APIs, so no Idempotency-Key: doing it twice is doing it once."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_200_OK

from backend.i18n import N_, preferred_language, translate
from backend.notifications.service import confirm_address, unsubscribe
from backend.notifications.tokens import address_of, subject_of

Token = Annotated[str, Parameter(min_length=3, max_length=400, description="the signed token from the e-mail")]
# A subject (128 characters) and an address (254, up to 4 UTF-8 octets each) and a time, base64url, and the MAC.
AddressToken = Annotated[str, Parameter(min_length=3, max_length=1600, description="the signed token from the e-mail")]

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

_CHECK_ASK = (
    N_("Confirm your e-mail address"),
    N_("Do you want us to send news about your installs to {address}?"),
    N_("Yes, this is my address"),
)
_CHECK_DONE = (
    N_("Your e-mail address is confirmed"),
    N_("From now on we send news about your installs to {address}."),
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


class AddressCheckController(Controller):
    path = "/notifications/v1/address"
    tags = ["notifications"]
    opt = {"exclude_from_auth": True}

    @get("/", operation_id="ShowAddressCheck")
    async def show(self, request: Request[Any, Any, State], token: FromQuery[AddressToken]) -> Response[str]:
        """A page asking to confirm (a fetched link confirms nothing); 400 for a token we did not sign or
        one past its time."""
        ctx = request.app.state.ctx
        _, address = address_of(ctx.settings.unsubscribe_secret, token, ctx.clock())
        lang = preferred_language(request.headers.get("accept-language"))
        title, text, button = (translate(lang, msgid, address=address) for msgid in _CHECK_ASK)
        form = f'<form method="post" action="?token={escape(token)}"><button type="submit">{button}</button></form>'
        return _page(lang, title, escape(text), form)

    @post("/", operation_id="ConfirmAddress", status_code=HTTP_200_OK)
    async def confirm(self, request: Request[Any, Any, State], token: FromQuery[AddressToken]) -> Response[str]:
        """The address becomes the customer's (idempotent); 409 when they asked for another one since."""
        ctx = request.app.state.ctx
        address = await confirm_address(ctx.settings.unsubscribe_secret, token, ctx.clock())
        lang = preferred_language(request.headers.get("accept-language"))
        return _page(lang, *(escape(translate(lang, msgid, address=address)) for msgid in _CHECK_DONE))
