"""/console/assets and /console/connections: what an operator looks up. Assets by serial, type, status or
the QR key of their last label, with a sheet of labels to print (SVG, A4, true size); connections by EAN,
address or customer. The searches are the admin API's (backend/installs assets and connection_admin),
keyset-paginated on an index ending in the serial or the EAN."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from backend.admin.assets import cursor_serial
from backend.bounds import LINE
from backend.console.access import HANDLERS, StaffSession, staff
from backend.console.language import type_words
from backend.console.said import error_flash, reader
from backend.console.words import ASSET_STATUS_WORDS, SEARCH_WORDS
from backend.cursor import decode_cursor, encode_cursor
from backend.errors import DomainError
from backend.i18n import N_, translate
from backend.installs import qr
from backend.installs.assets import AssetSearch, label_keys, label_sheet, search_assets
from backend.installs.connection_admin import ConnectionSearch, search_connections
from backend.installs.context import InstallContext
from backend.installs.ean import eighteen_digits
from backend.installs.enums import AssetStatus
from backend.principal import Principal, Role

PAGE = 25
_FIELDS = {
    "serial": qr.SERIAL_PATTERN,
    "ean": re.compile(r"^[0-9]{18}$"),
    "postcode": re.compile(r"^[1-9][0-9]{3} ?[A-Za-z]{2}$"),
    "house_number": re.compile(r"^[1-9][0-9]{0,4}$"),
    "owner": re.compile(r"^.{1,128}$"),
    "key_id": re.compile(r"^[A-Z0-9]{1,8}$"),
}
_LINE = re.compile(LINE)


def _searched(lang: str, **given: str | None) -> tuple[dict[str, str], list[str]]:
    """The filled-in search fields, and a sentence for each one that can match nothing as typed."""
    fields = {k: v.strip() for k, v in given.items() if v and v.strip()}
    wrong = [
        translate(lang, SEARCH_WORDS[k])
        for k, v in fields.items()
        if not (_FIELDS[k].fullmatch(v) and _LINE.fullmatch(v))
    ]
    return fields, wrong


def _next(rows: list[Any], key: str) -> str | None:
    return encode_cursor(getattr(rows[PAGE - 1], key)) if len(rows) > PAGE else None


async def _assets_page(
    ctx: InstallContext,
    who: Principal,
    lang: str,
    fields: dict[str, str],
    wrong: list[str],
    cursor: str | None,
    status: int = 200,
) -> Template:
    entries, next_cursor = [], None
    if not wrong:
        search = AssetSearch(
            serial=fields.get("serial"),
            asset_type=fields.get("asset_type"),
            status=AssetStatus(fields["status"]) if "status" in fields else None,
            key_id=fields.get("key_id"),
        )
        after = decode_cursor(cursor, cursor_serial)[0] if cursor else None
        entries = await search_assets(who, search, PAGE + 1, after)
        next_cursor = _next([e.asset for e in entries], "serial")
    return Template(
        "assets.html",
        status_code=status,
        media_type=MediaType.HTML,  # also as the label sheet's refusal, whose route answers SVG
        context={
            "who": who,
            "flash": {"kind": "error", "text": " ".join(wrong)} if wrong else None,
            "entries": entries[:PAGE],
            "next_cursor": next_cursor,
            "filters": fields,
            "types": type_words(ctx.catalog, lang),
            "statuses": ASSET_STATUS_WORDS,
            "sheet_size": qr.SHEET_SIZE,
        },
    )


class InventoryController(Controller):
    path = "/console"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [StaffSession]
    guards = [staff(Role.ADMIN)]

    @get("/assets")
    async def assets(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        serial: FromQuery[str | None] = None,
        asset_type: FromQuery[str | None] = None,
        asset_status: Annotated[str | None, QueryParameter(name="status")] = None,
        key_id: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Assets by serial, 25 a page, narrowed by type, status or label key; the label keys' counts."""
        who = request.user
        lang = reader(request)
        fields, wrong = _searched(lang, serial=serial, key_id=key_id)
        if asset_type in ctx.catalog.types:
            fields["asset_type"] = asset_type
        if asset_status in ASSET_STATUS_WORDS:
            fields["status"] = asset_status
        return await _assets_page(ctx, who, lang, fields, wrong, cursor)

    @get("/assets/keys")
    async def keys(self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]) -> Template:
        """How many assets' labels each QR key signed: counted when asked (it reads the whole label-key
        index), not on every asset search."""
        who = request.user
        return Template("label_keys.html", context={"who": who, "flash": None, "keys": await label_keys(ctx, who)})

    @post("/assets/labels.svg", status_code=200, media_type="image/svg+xml")
    async def label_sheet(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]
    ) -> Response[Any]:
        """An A4 sheet with the labels of the chosen assets (at most one sheet), signed with the active key. A
        POST form (with its CSRF token): printing issues the labels, recording their key; no GET writes."""
        who = request.user
        lang = reader(request)
        form = await request.form()
        serials = [s.strip() for s in form.getall("serial", []) if isinstance(s, str) and s.strip()]
        if not serials or len(serials) > qr.SHEET_SIZE or not all(qr.SERIAL_PATTERN.fullmatch(s) for s in serials):
            wrong = [translate(lang, N_("Choose 1 to {count} assets for one sheet of labels."), count=qr.SHEET_SIZE)]
            return await _assets_page(ctx, who, lang, {}, wrong, None, status=422)
        try:
            labels = await label_sheet(ctx, who, serials)
        except DomainError as exc:
            page = await _assets_page(ctx, who, lang, {}, [], None, status=exc.status)
            page.context["flash"] = error_flash(exc, lang)
            return page
        return Response(
            qr.render_sheet_svg(labels),
            media_type="image/svg+xml",
            headers={"Content-Disposition": 'inline; filename="etiketten.svg"', "Cache-Control": "no-store"},
        )

    @get("/connections")
    async def connections(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        ean: FromQuery[str | None] = None,
        postcode: FromQuery[str | None] = None,
        house_number: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Connections by EAN, 25 a page, narrowed by EAN, address (postcode, house number) or customer."""
        who = request.user
        lang = reader(request)
        fields, wrong = _searched(lang, ean=ean, postcode=postcode, house_number=house_number, owner=owner)
        rows, flash, next_cursor, status = [], None, None, 200
        if wrong:
            flash = {"kind": "error", "text": " ".join(wrong)}
        else:
            number = int(fields["house_number"]) if "house_number" in fields else None
            search = ConnectionSearch(
                ean=fields.get("ean"), postcode=fields.get("postcode"), house_number=number, owner=fields.get("owner")
            )
            after = decode_cursor(cursor, eighteen_digits)[0] if cursor else None
            try:
                rows = await search_connections(who, search, PAGE + 1, after)
            except DomainError as exc:
                flash, status = error_flash(exc, lang), exc.status
            next_cursor = _next(rows, "ean")
        return Template(
            "connections.html",
            status_code=status,
            context={
                "who": who,
                "flash": flash,
                "rows": rows[:PAGE],
                "next_cursor": next_cursor,
                "filters": fields,
            },
        )
