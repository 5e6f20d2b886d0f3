"""/portal: the customers' own pages, "what is going on for me, and what can I do", in a phone's browser.

Server-rendered like the console and over the same services as the mobile API: the words of a state,
the next actions and the expected decision time are mobile_api/v1/views.py's install_view, a form is
checked by the API's own request Struct, and asking for a person, objecting and picking a visit window
call the services the API calls. Sign-in opens a customer's session (backend/portal/access.py); every
form carries a CSRF token (Litestar's CSRF middleware, as the console's)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.console import sessions
from backend.console.oidc import pasted_tokens_allowed, provider_sign_in
from backend.errors import DomainError
from backend.i18n import N_, DataWords, translate
from backend.installs import conversation, service
from backend.installs.asked import EXTRA_SLOT_PREFIX
from backend.installs.connections import claim_connection, owned_connections
from backend.installs.context import InstallContext
from backend.jobs import visits
from backend.portal.access import (
    COOKIE,
    HANDLERS,
    HOME,
    LOGIN,
    CustomerSession,
    language_of,
    principal_of,
    session_cookie,
)
from backend.portal.said import Flash, form_help, message_fault, refused
from backend.principal import Principal, Role
from mobile_api.v1 import schemas as s
from mobile_api.v1.views import connection_view, install_view
from mobile_api.v1.visits import visit_view

_T = TypeVar("_T", bound=msgspec.Struct)
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

# The demo customers of `selfinstall seed` (fixtures/seed.py): one click signs in as one, in development.
DEMO_CUSTOMERS = ("cust-anna", "cust-bram", "cust-chris")
DEMO_SESSION = timedelta(hours=8)
HOME_INSTALLS = 20  # the newest installs on the home page; older ones are one link away in the app's list
FLASH = {
    "help_sent": N_("Your message has been sent. A person from our team will contact you."),
    "objection_sent": N_("Your objection has been sent. A specialist looks at your install again."),
    "visit_picked": N_("The visit is planned in the window you picked."),
    "claimed": N_("The connection is linked to your account."),
    "answer_sent": N_("Thank you: your answer is with the specialist."),
    "photo_in": N_("Your photo is in. The specialist still asks for what is below."),
}
# A refusal of the portal's own (no API route has it: the API's client names the slot it uploads to).
NO_PHOTO_ASKED = "answer/no-photo-asked"
REFUSED = {NO_PHOTO_ASKED: N_("No specialist asks you for a photo now. Want to reach a person? Ask for help.")}
CLAIM_FORM_HELP = N_("Check the EAN (18 digits), the postcode (such as 6811 AL) and the house number.")
# With JavaScript a photo (the guide's step, a specialist's extra photo) goes in chunks of this size through the
# resumable upload (backend/portal/uploads.py, which takes any size): a dropped connection costs at most one chunk
# again (the server also keeps what an interrupted request brought), and a 4 MB phone photo is a handful of requests.
CHUNK_BYTES = 512 * 1024


@dataclass
class ConnectionGroup:
    """A connection of the customer's with their installs there; `current` False once they moved out."""

    connection: s.ConnectionView
    current: bool
    installs: list[s.InstallView] = field(default_factory=list)


# The next actions the guide (backend/portal/guide.py) walks; the others (a specialist's request, a visit,
# waiting) are the install's page.
GUIDE_STEPS = frozenset({"scan_label", "share_location", "enter_reading", "upload_photo", "retake_photo", "submit"})


def guided(view: s.InstallView) -> bool:
    """Whether the guide has a step for the install now: only then is "Continue step by step" offered."""
    return any(a.code in GUIDE_STEPS for a in view.next_actions)


def _page(request: Request[Any, Any, Any], name: str, status: int = 200, **context: Any) -> Template:
    lang, keep = language_of(request)
    return Template(
        f"portal/{name}.html",
        status_code=status,
        context={"lang": lang, "path": request.url.path, "guided": guided, **context},
        cookies=[keep] if keep else [],
    )


def _labels(ctx: InstallContext, lang: str) -> dict[str, str]:
    """Each asset type as the catalog names it for a person ('Slimme meter (1-fase)'), not its code."""
    return {name: DataWords(t.label_nl, t.label_en).words(lang) for name, t in ctx.catalog.types.items()}


def _flash(lang: str, code: str | None) -> Flash | None:
    """The message a redirect's `?msg=` names: an outcome of ours, or a refusal of the portal's own that has
    no parameters. A service's refusal is never named here (its parameters are not in the URL): the page
    is rendered with it in full instead (`refused`)."""
    if code in FLASH:
        return {"kind": "info", "text": translate(lang, FLASH[code])}
    if code in REFUSED:
        return {"kind": "error", "text": translate(lang, REFUSED[code])}
    return None


def _form(data: dict[str, Any], kind: type[_T]) -> _T | None:
    """The form as the mobile API's request Struct: the same limits, one place; None if it breaks one."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError:
        return None


def _text_form(data: dict[str, str], kind: type[_T], lang: str) -> _T | Flash:
    """A form of the customer's own text as the API's request Struct, or why not in words (too long, empty)."""
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        return message_fault(lang, exc)


def back_url(install_id: uuid.UUID, code: str) -> str:
    """The install's page saying `code`: an outcome of ours at the flash, a refusal of ours from the top."""
    anchor = "" if code in FLASH else "#top"
    return f"/portal/installs/{install_id}?msg={code}{anchor}"


def _back(install_id: uuid.UUID, code: str) -> Redirect:
    return Redirect(back_url(install_id, code), status_code=303)


async def _act(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    action: Awaitable[object],
    install_id: uuid.UUID,
    success: str,
    typed: dict[str, str] | None = None,
) -> Response[Any]:
    """Run a customer's action and go back to the install's page with its outcome as the message; a refusal
    is that page at once, the refusal in full words and the form as typed (another's install: the 404 page)."""
    try:
        await action
    except DomainError as exc:
        lang, _ = language_of(request)
        return await install_page(request, ctx, install_id, refused(lang, exc), exc.status, typed)
    return _back(install_id, success)


async def install_page(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    install_id: uuid.UUID,
    flash: Flash | None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Template:
    """One install's page: its state, checks with their fix, timeline, next actions and the help forms
    (`typed`: a refused form's text, shown again to change)."""
    who = request.user
    lang, _ = language_of(request)
    snap = await service.get_install(who, install_id)  # 404 for another's (the API's problem page)
    view = install_view(ctx.catalog, snap, lang)
    visit = await _visit(snap.visit is not None, who, install_id, lang)
    codes = {a.code for a in view.next_actions}  # none of the steps for an install the caller did not start
    # The extra photo a specialist asks for, or its retake: the one action on a request's own slot.
    asked_photo = next((a for a in view.next_actions if a.subject and a.subject.startswith(EXTRA_SLOT_PREFIX)), None)
    return _page(
        request,
        "install",
        status,
        path=f"/portal/installs/{install_id}",  # the language links: the page, also when a form's POST rendered it
        who=who,
        install=view,
        visit=visit,
        labels=_labels(ctx, lang),
        flash=flash,
        typed=typed or {},
        failing=[c for c in view.checks if c.status != "pass"],
        can_object="object_to_decision" in codes,
        can_help=service.may_ask_for_help(who, snap.install),
        can_answer="answer_question" in codes,
        asked_photo=asked_photo,
        chunk_bytes=CHUNK_BYTES,  # the asked photo's upload.js sends it in chunks of this size
        can_pick="pick_visit_window" in codes and visit is not None and visit.state == "offered",
    )


async def _visit(snap_has_visit: bool, who: Principal, install_id: uuid.UUID, lang: str) -> s.VisitView | None:
    return visit_view(await visits.customer_visit(who, install_id), lang) if snap_has_visit else None


class PortalLoginController(Controller):
    """The portal's pages without a session: signing in (the demo customers in development), signing out."""

    path = "/portal"
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext]) -> Response[Any]:
        """The sign-in page: the provider's button when one is configured, the demo customers in development."""
        if await principal_of(request, ctx) is not None:
            return Redirect(HOME, status_code=303)
        return _login(request, ctx, 200)

    @post("/login/demo", status_code=303)
    async def demo_sign_in(
        self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext], data: Form
    ) -> Response[Any]:
        """Development only (the console's rule for pasted tokens): sign in as one of the demo customers."""
        if not pasted_tokens_allowed(ctx.settings):
            return _login(request, ctx, 403, N_("The demo sign-in is only there in development."))
        subject = data.get("customer", "")
        if subject not in DEMO_CUSTOMERS:
            return _login(request, ctx, 422, N_("Pick one of the demo customers."))
        now = ctx.clock()
        session = await sessions.open_session(Principal(subject=subject, role=Role.CUSTOMER), now, now + DEMO_SESSION)
        cookie = session_cookie(session, int(DEMO_SESSION.total_seconds()))
        return Redirect(HOME, status_code=303, cookies=[cookie])

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        await sessions.end_session(request.cookies.get(COOKIE))
        return Redirect(LOGIN, status_code=303, cookies=[session_cookie("", 0)])


class PortalController(Controller):
    """A customer's pages: home, an install, and their forms (the customer is `request.user`)."""

    path = "/portal"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [CustomerSession]

    @get("/")
    async def home(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        msg: FromQuery[str | None] = None,
    ) -> Template:
        """What is going on for me: my connections, the installs on each, what to do next."""
        who = request.user
        lang, _ = language_of(request)
        return await _home(request, ctx, who, 200, _flash(lang, msg))

    @post("/connections/claim", status_code=303)
    async def claim(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], data: Form
    ) -> Response[Any]:
        """Link a connection by EAN, postcode and house number: the API's ClaimConnection, with its limits."""
        who = request.user
        lang, _ = language_of(request)
        typed = {k: data.get(k, "").strip() for k in ("ean", "postcode", "house_number")}
        # As printed on an energy bill: an EAN in groups of digits ("8716 8700 ..."), a postcode "6811 AL".
        spaced = {name: "".join(typed[name].split()) for name in ("ean", "postcode")}
        form = _form({**typed, **spaced}, s.ClaimConnection)
        if form is None:
            flash = {"kind": "error", "text": translate(lang, CLAIM_FORM_HELP)}
            return await _home(request, ctx, who, 422, flash, typed)
        try:
            await claim_connection(ctx, who, form.ean, form.postcode, form.house_number)
        except DomainError as exc:  # a wrong answer counts towards the limits, as in the API
            page = await _home(request, ctx, who, exc.status, {"kind": "error", "text": exc.message(lang)}, typed)
            if "retry_after_s" in exc.params:
                page.headers["Retry-After"] = str(exc.params["retry_after_s"])
            return page
        return Redirect(f"{HOME}?msg=claimed", status_code=303)

    @get("/installs/{install_id:uuid}")
    async def install(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        msg: FromQuery[str | None] = None,
    ) -> Template:
        """One install: its state, checks with their fix, timeline, next actions and the help forms."""
        lang, _ = language_of(request)
        return await install_page(request, ctx, install_id, _flash(lang, msg))

    @post("/installs/{install_id:uuid}/help", status_code=303)
    async def help(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """Ask for a person with a message (the API's AskForHelp); a refused message is shown again as typed."""
        who, (lang, _) = request.user, language_of(request)
        typed = {"help": data.get("message", "")}
        form = _text_form({"message": typed["help"]}, s.AskForHelp, lang)
        if not isinstance(form, s.AskForHelp):
            return await install_page(request, ctx, install_id, form, 422, typed)
        action = service.request_help(ctx, who, install_id, form.message)
        return await _act(request, ctx, action, install_id, "help_sent", typed)

    @post("/installs/{install_id:uuid}/answer", status_code=303)
    async def answer(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """Answer the specialist's open question in words (the API's SendMessage)."""
        who, (lang, _) = request.user, language_of(request)
        typed = {"answer": data.get("text", "")}
        form = _text_form({"text": typed["answer"]}, s.SendMessage, lang)
        if not isinstance(form, s.SendMessage):
            return await install_page(request, ctx, install_id, form, 422, typed)
        action = conversation.send_message(ctx, who, install_id, form.text)
        return await _act(request, ctx, action, install_id, "answer_sent", typed)

    @post("/installs/{install_id:uuid}/objection", status_code=303)
    async def objection(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """Object to a rejection with the customer's words (the API's ObjectToDecision)."""
        who, (lang, _) = request.user, language_of(request)
        typed = {"objection": data.get("message", "")}
        form = _text_form({"message": typed["objection"]}, s.ObjectToDecision, lang)
        if not isinstance(form, s.ObjectToDecision):
            return await install_page(request, ctx, install_id, form, 422, typed)
        action = service.object_to_decision(ctx, who, install_id, form.message)
        return await _act(request, ctx, action, install_id, "objection_sent", typed)

    @post("/installs/{install_id:uuid}/visit", status_code=303)
    async def visit(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """Pick one of the offered windows (the API's PickVisitWindow); the radio's value is `start|end`."""
        who, (lang, _) = request.user, language_of(request)
        start, _, end = data.get("window", "").partition("|")
        form = _form({"window_start": start, "window_end": end}, s.PickVisitWindow)
        if form is None:
            return await install_page(request, ctx, install_id, form_help(lang, "visit"), 422)
        urls, now = ctx.settings.webhook_urls, ctx.clock()
        action = visits.pick_window(urls, who, install_id, form.window_start, form.window_end, now)
        return await _act(request, ctx, action, install_id, "visit_picked")


async def _home(
    request: Request[Any, Any, Any],
    ctx: InstallContext,
    who: Principal,
    status: int,
    flash: Flash | None,
    typed: dict[str, str] | None = None,
) -> Template:
    """The home page: each connection with the customer's installs there, and the claim form (as typed)."""
    lang, _ = language_of(request)
    groups: dict[str, ConnectionGroup] = {}
    for owned in await owned_connections(ctx, who, 100, None):
        groups[owned.connection.ean] = ConnectionGroup(connection_view(owned.connection), current=True)
    for install in await service.list_installs(who, HOME_INSTALLS, None, None):
        # The same scoped read as the API's GetInstall: after a move-out, only their own time's installs.
        view = install_view(ctx.catalog, await service.get_install(who, install.id), lang)
        group = groups.setdefault(view.connection.ean, ConnectionGroup(view.connection, current=False))
        group.installs.append(view)
    return _page(
        request,
        "home",
        status,
        path=HOME,
        who=who,
        groups=list(groups.values()),
        labels=_labels(ctx, lang),
        flash=flash,
        typed=typed or {},
        # The guide's start form (backend/portal/guide.py): the types a customer may install there, and a
        # fresh install id per form, so pressing it twice is one install (CreateInstall is idempotent on it).
        offers=lambda capacity: ctx.catalog.self_installable(Role.CUSTOMER.value, capacity),
        new_id=uuid.uuid4,
    )


def _login(request: Request[Any, Any, Any], ctx: InstallContext, status: int, error: str | None = None) -> Template:
    lang, _ = language_of(request)
    return _page(
        request,
        "login",
        status,
        path=LOGIN,
        who=None,
        flash={"kind": "error", "text": translate(lang, error)} if error else None,
        provider=provider_sign_in(ctx.settings) is not None,
        demo=DEMO_CUSTOMERS if pasted_tokens_allowed(ctx.settings) else (),
    )
