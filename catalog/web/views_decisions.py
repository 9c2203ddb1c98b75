"""Decisions: the list auditors filter, one decision with the Five Safes and the rules that decided it, and the
form that asks for access to a dataset (the decision is recorded, then shown)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog.api.context import call
from catalog.domain import ConditionResult, Decision, Outcome
from catalog.errors import InvalidInput
from catalog.principal import Principal
from catalog.services import DecisionFilter, Services
from catalog.web.forms import page_cursor
from catalog.web.render import page, path
from catalog.web.session import read_form, signed_in
from catalog.web.views_catalog import services_of

FILTERS = ("requester", "dataset", "agency", "outcome", "rule", "from", "to")


def _date(field: str, raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(field, "must be a date, YYYY-MM-DD") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def decision_filter(query: dict[str, str]) -> DecisionFilter:
    outcome = query.get("outcome") or None
    if outcome and outcome not in (Outcome.PERMIT.value, Outcome.DENY.value):
        raise InvalidInput("outcome", "must be PERMIT or DENY")
    return DecisionFilter(
        requester=query.get("requester") or None,
        dataset=query.get("dataset") or None,
        agency=query.get("agency") or None,
        outcome=outcome,
        rule_id=query.get("rule") or None,
        at_from=_date("from", query.get("from")),
        at_to=_date("to", query.get("to")),
    )


async def decisions(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    query = {k: request.query_params.get(k, "") for k in FILTERS}
    criteria = decision_filter(query)
    after = page_cursor(request)
    size = services.ctx.settings.api.default_page_size
    listing = await call(services.access.list, principal, criteria, size, after)
    rules = [rule.id for rule in services.engine.policy.rules]
    return page(
        request,
        "decisions.html",
        listing=listing,
        query=query,
        kept={k: v for k, v in query.items() if v},
        after=after,
        rules=rules,
    )


@dataclass
class RuleView:
    """A candidate rule as the decision page shows it: did it match, and which conditions failed on what."""

    id: str
    effect: str
    matched: bool
    determining: bool
    description: str
    failed: list[ConditionResult]
    passed: list[ConditionResult]


def seen(condition: ConditionResult) -> list[str]:
    """The values a condition saw, one `name = value` each: the page gives each a line of its own, so a long one
    wraps between its parts instead of inside a word."""
    return [f"{k} = {json.dumps(v, default=str)}" for k, v in sorted(condition.seen.items())]


def decision_sheet(services: Services, principal: Principal, decision_id: str) -> dict[str, Any]:
    """The decision (NotFound unless `principal` may read it) and what it links to, where they may see it."""
    decision: Decision = services.access.get(principal, decision_id)
    policy = services.engine.policy
    rules = [
        RuleView(
            id=e.rule_id,
            effect=e.effect,
            matched=e.matched,
            determining=e.rule_id in decision.determining_rules,
            description=policy.by_id[e.rule_id].description if e.rule_id in policy.by_id else "",
            failed=[c for c in e.conditions if not c.passed],
            passed=[c for c in e.conditions if c.passed],
        )
        for e in decision.evaluations
    ]
    rules.sort(key=lambda r: (not r.determining, r.matched, len(r.failed), r.id))
    dataset_id = decision.request.dataset_id
    agreement_id = decision.agreement_id
    return {
        "decision": decision,
        "rules": rules,
        "dataset": services.reads.datasets_by_ids(principal, [dataset_id]).get(dataset_id) if dataset_id else None,
        "requester": services.reads.persons_by_ids(principal, [decision.principal_id]).get(decision.principal_id),
        "agreement": services.agreements.by_ids(principal, [agreement_id]).get(agreement_id) if agreement_id else None,
        "current_policy": policy.version,
        "seen": seen,
        "agreement_then": _status_then(decision),
    }


def _status_then(decision: Decision) -> str | None:
    status = decision.attributes.get("env", {}).get("agreement", {}).get("status")
    return None if status in (None, "NONE") else str(status)


async def policy_version(request: Request) -> Response:
    """The policy a decision was made under, rule by rule, as it was then (or the one in force)."""
    services = services_of(request)
    version = request.path_params.get("version") or None
    shown = await call(services.decisions.policy_at, version)
    current = services.decisions.policy.version
    return page(request, "policy.html", policy=shown, current=current)


async def decision(request: Request) -> Response:
    services, principal = services_of(request), request.state.principal
    sheet = await call(decision_sheet, services, principal, request.path_params["id"])
    return page(request, "decision.html", **sheet)


async def check_access(request: Request) -> Response:
    """Ask for access: the policy decides and the decision is recorded, exactly as `checkAccess` in the API."""
    services, principal = services_of(request), signed_in(request, "ask for access", "a decision is about a person")
    form = await read_form(request)
    payload: dict[str, Any] = {"dataset_id": request.path_params["id"]}
    for name in ("purpose", "access_method"):
        value = form.get(name)
        if value:
            payload[name] = value
    fields = [f for f in form.getlist("fields") if f]
    if fields:
        payload["fields"] = fields
    recorded: Decision = await call(services.access.check, principal, payload)
    return RedirectResponse(path("decisions", recorded.id), status_code=303)
