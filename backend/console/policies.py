"""/console/settings: the catalog, the validation policy and the review configuration in force, read-only
(they are files in the package, changed by a release: catalog.toml, policy.toml, review.toml). Shows each
version, since decisions record it, and the values an operator asks about."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from backend.console.access import HANDLERS, StaffSession, staff
from backend.console.said import reader
from backend.console.times import WEEKDAYS
from backend.console.words import INSTALLER_WORDS, KIND_WORDS, POLICY_SECTION_WORDS
from backend.i18n import N_, DataWords, translate
from backend.installs.context import InstallContext
from backend.installs.snapshot import REASON_TEXT_FOR_STAFF
from backend.local_time import OPERATOR_ZONE
from backend.principal import Principal, Role
from backend.review.config import load_review_config

_YES_NO = {True: N_("yes"), False: N_("no")}


def _said(value: Any, lang: str) -> str:
    """A configured value as the reader writes it: yes/no in words, 2 for 2.0, a decimal comma in Dutch."""
    if isinstance(value, bool):
        return translate(lang, _YES_NO[value])
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",") if lang == "nl" else f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_said(v, lang) for v in value)
    return str(value)


def _catalog(ctx: InstallContext, lang: str) -> dict[str, Any]:
    catalog = ctx.catalog
    types = [
        {
            "name": DataWords(spec.label_nl, spec.label_en).words(lang),
            "who": ", ".join(translate(lang, INSTALLER_WORDS[w]) for w in sorted(spec.self_install)),
            "capacities": ", ".join(sorted(spec.capacities)),
            "slots": [DataWords(catalog.slots[s].label_nl, catalog.slots[s].label_en).words(lang) for s in spec.slots],
            "power_kw": spec.power_kw,
            "prefix": spec.serial_prefix,
        }
        for _, spec in sorted(catalog.types.items())
    ]
    return {"version": catalog.version, "rules": catalog.rules, "types": types}


def _policy(ctx: InstallContext, lang: str) -> dict[str, Any]:
    values = msgspec.to_builtins(ctx.policy)
    sections = [
        {
            "name": translate(lang, POLICY_SECTION_WORDS.get(key, key)),
            "values": [(k, _said(v, lang)) for k, v in sorted(section.items())],
        }
        for key, section in values.items()
        if isinstance(section, dict)
    ]
    return {"version": ctx.policy.version, "sections": sections}


def _review(lang: str) -> dict[str, Any]:
    config = load_review_config()
    wh = config.working_hours
    days = ", ".join(translate(lang, WEEKDAYS[d - 1]) for d in sorted(wh.weekdays))
    return {
        "version": config.version,
        "lease_minutes": config.lease_minutes,
        "working_hours": f"{days}, {wh.start_hour}:00-{wh.end_hour}:00 ({OPERATOR_ZONE.key})",
        "sla": [
            (translate(lang, REASON_TEXT_FOR_STAFF[r]), _said(h, lang), config.risk_weight[r])
            for r, h in config.sla_working_hours.items()
        ],
        "followups": [
            (
                translate(lang, KIND_WORDS.get(k, k)),
                _said(config.followup_sla_working_hours[k], lang),
                config.followup_risk[k],
            )
            for k in sorted(config.followup_sla_working_hours)
        ],
    }


class PoliciesController(Controller):
    path = "/console/settings"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [StaffSession]
    guards = [staff(Role.ADMIN)]

    @get("/")
    async def settings(self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]) -> Template:
        """The catalog, policy and review versions in force and their key values."""
        who = request.user
        lang = reader(request)
        catalog, policy, review = _catalog(ctx, lang), _policy(ctx, lang), _review(lang)
        context = {"who": who, "flash": None, "catalog": catalog, "policy": policy, "review": review}
        return Template("settings.html", context=context)
