"""The demo's history: share requests, verdicts and lifecycle steps, then access decisions and a correction.

Everything here goes through the services, as the people themselves would through the API: each request, verdict,
lifecycle step, access check and correction is decided by the policy and recorded with its decision and audit
event in one transaction. So an auditor's first look finds a decision log, a steward's queue and an agreements
register with content, and `catalog audit verify` passes.

A partner may ask only for a dataset whose metadata it may see (`policies/rules/10-metadata.yaml`): an OFFICIAL
one, or one its agency already holds an active agreement for. So the requests below are on the city's OFFICIAL
service requests and on datasets the imported agreements (`catalog.demo`) let the recipient see.

- ben.stats asks the city for its service requests; carla.city approves: agr.city-stats-service-requests. It is
  dated two months back with the services' own clock, so its window has ended: EXPIRED, as a real one would.
- ben.stats asks again; the request waits for carla.city: PENDING_APPROVAL.
- nora.social asks the city for its service requests; carla.city approves, then suspends it after an incident:
  agr.city-social-service-requests, SUSPENDED.
- ben.stats asks health for two more admissions fields; hamid.health (steward) then grace.health (approver)
  approve, four eyes: agr.health-stats-linkage-run2, ACTIVE.
- uma.uni asks health for the research extract for planning; hamid.health rejects it: REJECTED.
- rui.uni asks for the research extract; the policy refuses it (no data-ethics training): DENIED.
- samira.social revokes agr.social-stats-housing-statistics after a breach: REVOKED.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from catalog.domain import Person
from catalog.principal import Principal
from catalog.services import Services
from catalog.services.context import new_id

DAY = timedelta(days=1)
YEAR = 365 * DAY

# Statutes named both by what the demo imports (catalog.demo) and by the requests made here.
INTEGRATION_ACT = "Data Sharing and Integration Act 2022 s. 13 (accredited integration); GDPR Art. 9(2)(j)"
HEALTH_RESEARCH = "Health Records Act 2001 s. 28; ethics approval HREC 2025/117"
COUNCIL_FUNCTIONS = "Local Government Act 1993 s. 21 (council functions)"


def public_task(statute: str, *, covers_identified: bool = False) -> dict[str, Any]:
    """A legal basis under GDPR Art. 6(1)(e), public task: the one every dataset, agreement and request here has."""
    basis: dict[str, Any] = {"article6": "PUBLIC_TASK", "statute": statute}
    if covers_identified:
        basis["covers_identified"] = True
    return basis


class AgreementNames:
    """Ids for the services: the demo's agreements get the readable names queued for them, all else `new_id`."""

    def __init__(self) -> None:
        self.queued: dict[str, list[str]] = defaultdict(list)

    def queue(self, prefix: str, name: str) -> None:
        self.queued[prefix].append(name)

    def __call__(self, prefix: str, at: datetime) -> str:
        return self.queued[prefix].pop(0) if self.queued[prefix] else new_id(prefix, at)


class Stage:
    """The services as of some time before now: `at(ago)` sets the clock back; everything else is unchanged."""

    def __init__(self, services: Services, people: dict[str, Person]) -> None:
        self.now: Callable[[], datetime] = services.ctx.clock
        self.back = timedelta(0)
        self.names = AgreementNames()
        self.people = people
        self.services = Services(
            services.store, services.ctx.settings, engine=services.engine, clock=self.clock, ids=self.names
        )

    def clock(self) -> datetime:
        return self.now() - self.back

    def at(self, ago: timedelta) -> Services:
        self.back = ago
        return self.services

    def who(self, person_id: str) -> Principal:
        return Principal.acting_as(self.people[person_id])


def _request(stage: Stage, ago: timedelta, by: str, dataset_id: str, terms: dict[str, Any], until: datetime) -> str:
    payload = {"dataset_ids": [dataset_id], "recipient_agency_id": stage.people[by].agency_id, "valid_until": until}
    return stage.at(ago).sharing.request(stage.who(by), {**payload, **terms}).id


def _approve(stage: Stage, ago: timedelta, by: str, request_id: str, note: str, *conditions: str) -> None:
    stage.at(ago).sharing.approve(stage.who(by), request_id, note, conditions)


def _agreement(stage: Stage, name: str, ago: timedelta, approver: str, request_id: str, note: str) -> None:
    """The approval that completes a request makes its agreement, under the readable `name`."""
    stage.names.queue("agr", name)
    _approve(stage, ago, approver, request_id, note)


def make_agreements(stage: Stage) -> int:
    """The share requests, verdicts and lifecycle steps listed above. Returns how many requests were made."""
    now = stage.now()
    expired = _request(stage, 60 * DAY, "ben.stats", "city.service-requests", STATISTICS, now - 5 * DAY)
    _agreement(stage, "agr.city-stats-service-requests", 59 * DAY, "carla.city", expired, "Approved for the quarter.")
    _request(stage, 2 * DAY, "ben.stats", "city.service-requests", STATISTICS, now + 180 * DAY)  # waits

    delivery = _request(stage, 40 * DAY, "nora.social", "city.service-requests", SERVICE_REQUESTS, now + YEAR)
    _agreement(stage, "agr.city-social-service-requests", 39 * DAY, "carla.city", delivery, "Approved.")

    linkage = _request(stage, 30 * DAY, "ben.stats", "health.admissions", LINKAGE, now + YEAR)
    _approve(stage, 29 * DAY, "hamid.health", linkage, "Two fields more; the minimum the second run needs.")
    _agreement(stage, "agr.health-stats-linkage-run2", 28 * DAY, "grace.health", linkage, "Second approval given.")

    planning = _request(stage, 20 * DAY, "uma.uni", "health.admissions-deid", PLANNING, now + YEAR)
    stage.at(19 * DAY).sharing.reject(stage.who("hamid.health"), planning, PLANNING_REJECTED)
    _request(stage, 5 * DAY, "rui.uni", "health.admissions-deid", RESEARCH, now + YEAR)  # DENIED: no training

    stage.at(10 * DAY).agreements.revoke(
        stage.who("samira.social"), "agr.social-stats-housing-statistics", REVOKED_BECAUSE
    )
    stage.at(3 * DAY).agreements.suspend(stage.who("carla.city"), "agr.city-social-service-requests", SUSPENDED_BECAUSE)
    return 6


# (person, dataset, purpose, method): each a decision an auditor can read, permits and every kind of refusal.
ACCESS_CHECKS: list[tuple[str, str, str, str]] = [
    ("uma.uni", "health.admissions-deid", "RESEARCH", "SECURE_ENCLAVE"),  # permit under an agreement
    ("ben.stats", "health.admissions", "RESEARCH", "SECURE_ENCLAVE"),  # permit under the linkage agreement
    ("nora.social", "stats.hospital-activity", "STATISTICS", "DOWNLOAD"),  # permit: open data
    ("uma.uni", "health.admissions-deid", "RESEARCH", "DOWNLOAD"),  # implicit deny: another method
    ("rui.uni", "health.admissions-deid", "RESEARCH", "SECURE_ENCLAVE"),  # implicit deny: no training
    ("dan.city", "social.housing-cases", "SERVICE_DELIVERY", "API"),  # implicit deny: expired
    ("nora.social", "city.service-requests", "SERVICE_DELIVERY", "API"),  # implicit deny: suspended
    ("ben.stats", "city.service-requests", "STATISTICS", "API"),  # implicit deny: expired, the new request waits
    ("ben.stats", "social.housing-cases", "STATISTICS", "DOWNLOAD"),  # explicit deny: revoked
    ("carla.city", "social.housing-cases", "LAW_ENFORCEMENT", "API"),  # explicit deny: law enforcement
]


def use_and_correct(stage: Stage) -> int:
    """Record the access decisions above as of today, then one correction with its notices. Returns how many."""
    services = stage.at(timedelta(0))
    for person, dataset, purpose, method in ACCESS_CHECKS:
        ask = {"dataset_id": dataset, "purpose": purpose, "access_method": method}
        services.access.check(stage.who(person), ask)
    services.corrections.issue(stage.who("hamid.health"), "health.admissions", CORRECTION, "MAJOR")
    return len(ACCESS_CHECKS)


LINKAGE: dict[str, Any] = {
    "purpose": "RESEARCH",
    "legal_basis": public_task(INTEGRATION_ACT, covers_identified=True),
    "access_method": "SECURE_ENCLAVE",
    "fields": ["separation_date", "procedure_codes"],
    "justification": "Linkage project 2025-014, second run: length of stay and procedures for the cohort.",
}
RESEARCH: dict[str, Any] = {
    "purpose": "RESEARCH",
    "legal_basis": public_task(HEALTH_RESEARCH),
    "access_method": "SECURE_ENCLAVE",
    "fields": ["age_group", "sex", "region", "admission_month", "length_of_stay", "diagnosis_chapter"],
    "justification": "Study of readmissions by region (HREC 2025/117).",
}
RESEARCH_CONDITIONS = ("Named researchers with current data-ethics training only", "No linkage to other data")
SERVICE_REQUESTS: dict[str, Any] = {
    "purpose": "SERVICE_DELIVERY",
    "legal_basis": public_task(COUNCIL_FUNCTIONS),
    "access_method": "API",
    "fields": ["category", "suburb", "lodged_at", "closed_at"],
    "justification": "Route housing-related service requests to case workers.",
}
PLANNING: dict[str, Any] = {
    **RESEARCH,
    "purpose": "POLICY_AND_PROGRAMS",
    "justification": "Hospital use by region for the social services plan.",
}
STATISTICS: dict[str, Any] = {
    **SERVICE_REQUESTS,
    "purpose": "STATISTICS",
    "justification": "Quarterly council service statistics.",
}
PLANNING_REJECTED = (
    "The extract is released for approved research only. For planning, the open hospital activity statistics "
    "(stats.hospital-activity) give the same figures by region."
)
REVOKED_BECAUSE = (
    "An identified copy was kept past the 90-day destruction deadline (breach report BR-2025-014). Revoked by "
    "the data owner pending an audit."
)
SUSPENDED_BECAUSE = (
    "Some suburb values hold street addresses typed in by residents (incident CITY-2025-031); suspended until "
    "the extract is cleaned."
)
CORRECTION = (
    "Principal diagnosis codes of March 2025 admissions at two hospitals were mapped to the wrong ICD-10-AM "
    "edition. The codes are corrected; extracts and statistics derived from them are being re-run."
)
