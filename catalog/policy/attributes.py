"""The attributes a policy decides on: who asks (`r.sub`), about what (`r.obj`) and in which context (`r.env`).

`KNOWN_ATTRIBUTES` is the vocabulary rule conditions may use; `policy check` refuses any other name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

KNOWN_ATTRIBUTES: dict[str, str] = {
    "r.sub.id": "the requester's person id ('anonymous' when not signed in)",
    "r.sub.agency": "the requester's agency id ('' when none)",
    "r.sub.roles": "the requester's roles",
    "r.sub.anonymous": "whether the requester is not signed in",
    "r.sub.training_current": "whether the requester's data-ethics training is current",
    "r.sub.training_expires": "when the requester's training expires ('' when never trained)",
    "r.sub.is_requester": "whether the subject made the share request being decided (approvals)",
    "r.obj.id": "the dataset id",
    "r.obj.owner": "the owning agency id",
    "r.obj.status": "ACTIVE, DEPRECATED or WITHDRAWN",
    "r.obj.classification": "the effective classification (the most restrictive upstream, unless attested)",
    "r.obj.classification_rank": "position of the effective classification in the scheme (0 = least restrictive)",
    "r.obj.own_classification": "the classification set on the dataset itself",
    "r.obj.personal_data": "effective personal-data category: NONE, PERSONAL or SPECIAL_CATEGORY",
    "r.obj.personal_data_rank": "0 NONE, 1 PERSONAL, 2 SPECIAL_CATEGORY",
    "r.obj.identifiability": "IDENTIFIED, PSEUDONYMISED, DEIDENTIFIED, AGGREGATE or NOT_APPLICABLE",
    "r.obj.identified": "whether records identify people (IDENTIFIED or PSEUDONYMISED)",
    "r.obj.permitted_purposes": "the purposes the dataset may be used for",
    "r.obj.has_legal_basis": "whether a lawful basis is recorded",
    "r.obj.legal_basis_covers_identified": "whether the lawful basis covers sharing identified records",
    "r.obj.stewards": "person ids of the dataset's stewards",
    "r.obj.fields": "the dataset's field names",
    "r.obj.recipients": "agencies holding an ACTIVE sharing agreement that covers the dataset",
    "r.obj.restricted_by": "the upstream dataset its effective classification comes from ('' when its own)",
    "r.obj.person": "for a record (decision, share request, audit event, person): the person it is by or about",
    "r.obj.parties": "for a record (decision, agreement, share request, notice, person): the agencies it concerns",
    "r.env.action": "the action asked for",
    "r.env.purpose": "the stated purpose ('' when none)",
    "r.env.access_method": "SECURE_ENCLAVE, AGGREGATE_QUERY, API or DOWNLOAD ('' when none)",
    "r.env.fields": "the requested field names (empty means the agreement's approved fields)",
    "r.env.fields_within_approved": "whether every requested field is among the agreement's approved fields",
    "r.env.fields_outside_approved": "the requested fields the agreement does not approve",
    "r.env.now": "the decision time (UTC ISO 8601)",
    "r.env.recipient": "the agency a share is requested for ('' outside the sharing workflow)",
    "r.env.share_basis_covers_identified": "whether the legal basis stated for a share covers identified records",
    "r.env.verdict": "APPROVE or REJECT when deciding on a share request ('' otherwise)",
    "r.env.agreement.id": "the agreement considered ('' when none covers the dataset and recipient)",
    "r.env.agreement.status": "its status, or NONE",
    "r.env.agreement.status_reason": "why it is in that status, as recorded (a suspension's or revocation's reason)",
    "r.env.agreement.active": "ACTIVE and inside its validity window",
    "r.env.agreement.expired": "its validity window has passed (or it is marked EXPIRED)",
    "r.env.agreement.valid_until": "end of its validity window",
    "r.env.agreement.recipient": "its recipient agency id",
    "r.env.agreement.purpose": "the purpose it allows",
    "r.env.agreement.covers_purpose": "whether it allows the stated purpose",
    "r.env.agreement.access_method": "the access method it allows",
    "r.env.agreement.max_classification_rank": "the most restrictive classification rank it allows",
    "r.env.agreement.max_classification": "the most restrictive classification it allows",
    "r.env.agreement.max_personal_data_rank": "the most restrictive personal-data rank it allows",
    "r.env.agreement.allows_identified": "whether it allows identified records",
    "r.env.agreement.approved_fields": "the fields it approves (empty means all)",
    "r.env.role": "the role granted or withdrawn (grant_role; '' otherwise)",
    "r.env.person.id": "the person an administrative action is about: whose roles change, who becomes a steward",
    "r.env.person.agency": "that person's agency id",
    "r.env.person.roles": "that person's roles, as the catalog records them",
    "r.env.person.active": "whether that person is active (not deactivated)",
    "r.env.recorded_by": "who recorded the process run being attested ('' otherwise)",
    "r.env.pending_request.id": "a share request of the requester's agency for the dataset still waiting for approval",
    "r.env.pending_request.waiting_for": "the approvals that request is still waiting for",
}


@dataclass(slots=True)
class PersonAttributes:
    """What a policy knows of any person, the one asking (`r.sub`) or the one an action is about (`r.env.person`):
    their id, their agency ('' when none) and their roles, as the catalog records them."""

    id: str
    agency: str = ""
    roles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Subject(PersonAttributes):
    """The person asking (`r.sub`)."""

    anonymous: bool = False
    training_current: bool = False
    training_expires: str = ""
    is_requester: bool = False


@dataclass(slots=True)
class Resource:
    id: str
    owner: str = ""
    status: str = "ACTIVE"
    classification: str = ""
    classification_rank: int = 0
    own_classification: str = ""
    personal_data: str = "NONE"
    personal_data_rank: int = 0
    identifiability: str = "NOT_APPLICABLE"
    identified: bool = False
    permitted_purposes: list[str] = field(default_factory=list)
    has_legal_basis: bool = False
    legal_basis_covers_identified: bool = False
    stewards: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    restricted_by: str = ""
    person: str = ""
    parties: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PersonView(PersonAttributes):
    """The person an administrative action is about (`r.env.person`); with an empty id, there is none."""

    id: str = ""
    active: bool = False


@dataclass(slots=True)
class PendingRequest:
    """A share request of the requester's agency for the dataset, still waiting for approval
    (`r.env.pending_request`)."""

    id: str = ""
    waiting_for: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AgreementView:
    id: str = ""
    status: str = "NONE"
    status_reason: str = ""
    active: bool = False
    expired: bool = False
    valid_until: str = ""
    recipient: str = ""
    purpose: str = ""
    covers_purpose: bool = False
    access_method: str = ""
    max_classification_rank: int = -1
    max_classification: str = ""
    max_personal_data_rank: int = -1
    allows_identified: bool = False
    approved_fields: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Environment:
    action: str
    purpose: str = ""
    access_method: str = ""
    fields: list[str] = field(default_factory=list)
    fields_within_approved: bool = True
    fields_outside_approved: list[str] = field(default_factory=list)
    now: str = ""
    agreement: AgreementView = field(default_factory=AgreementView)
    recipient: str = ""
    share_basis_covers_identified: bool = False
    verdict: str = ""
    role: str = ""
    person: PersonView = field(default_factory=PersonView)
    recorded_by: str = ""
    pending_request: PendingRequest = field(default_factory=PendingRequest)


@dataclass(slots=True)
class RequestAttributes:
    """The `r` a condition sees."""

    sub: Subject
    obj: Resource
    env: Environment

    def snapshot(self) -> dict[str, Any]:
        """Every attribute as plain data, kept with the decision: what `dataclasses.asdict` gives, in a third of
        its time (it deep-copies every string; every decision pays for this)."""
        return {"sub": _plain(self.sub), "obj": _plain(self.obj), "env": _plain(self.env)}


_ATOMS = (str, int, float, bool, type(None))
_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """`value` as `dataclasses.asdict` would give it: dataclasses as dicts, containers rebuilt, the rest copied."""
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        names = _NAMES.get(type(value))
        if names is None:
            names = _NAMES[type(value)] = tuple(f.name for f in fields(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return copy.deepcopy(value)
