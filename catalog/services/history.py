"""A dataset's metadata history, read from its audit events: registration, updates, stewards and corrections.

The audit trail is the only record of history, so the history cannot disagree with what the chain vouches for.
An update's `reason` is the one `updateDataset` required; a correction is any history event with a severity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.principal import Principal
from catalog.services.context import ServiceContext
from catalog.store.base import GraphTx, Props
from catalog.store.query import Contains, In, all_of, any_of
from catalog.store.records import JSON_SUFFIX
from catalog.store.schema import Label

# The events that change what a dataset's metadata says, or who answers for it. Corrections use the policy's
# action name.
HISTORY_ACTIONS = ("register_dataset", "update_dataset", "issue_correction", "assign_steward", "unassign_steward")
# The events that change a person's standing: their roles, training and whether they are active.
PERSON_ACTIONS = ("register_person", "set_roles", "record_training", "deactivate_person", "reactivate_person")
# Bookkeeping every version changes: `version` and `at` have their own columns already.
UNLISTED = frozenset({"version", "updated_at", "created_at"})
PAGE_SIZE = 500


@dataclass(frozen=True)
class FieldChange:
    """One property of the dataset: its value before and after (JSON-decoded; None when absent)."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryEntry:
    """One event in a dataset's history, with the version the dataset had once it was applied."""

    sequence: int
    version: int
    at: datetime
    by: str | None
    action: str
    changes: list[FieldChange] = field(default_factory=list)
    reason: str | None = None
    severity: str | None = None


class History:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def of_datasets(self, principal: Principal, dataset_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """The history of each dataset `principal` may see, oldest first; datasets it may not see are absent.

        Anonymous callers get the history without who made each change: the staff directory is for signed-in
        users only.
        """
        ids = list(dict.fromkeys(dataset_ids))
        if not ids:
            return {}

        def work(tx: GraphTx) -> dict[str, list[HistoryEntry]]:
            shown = list(self.ctx.decisions.visible(tx, principal, Label.DATASET, ids))
            return _histories(tx, shown, HISTORY_ACTIONS, show_by=not principal.anonymous)

        return self.ctx.store.read(work)

    def of_people(self, principal: Principal, person_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """Role, training and activation changes of each person `principal` may read (read_person), oldest first."""
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return {}

        def work(tx: GraphTx) -> dict[str, list[HistoryEntry]]:
            shown = list(self.ctx.decisions.visible(tx, principal, Label.PERSON, ids))
            return _histories(tx, shown, PERSON_ACTIONS, show_by=True)

        return self.ctx.store.read(work)


def _histories(
    tx: GraphTx, target_ids: list[str], actions: Sequence[str], *, show_by: bool
) -> dict[str, list[HistoryEntry]]:
    result: dict[str, list[HistoryEntry]] = {id: [] for id in target_ids}
    if not target_ids:
        return result
    dataset_ids = target_ids
    where = all_of(In("action", tuple(actions)), any_of(*(Contains("target_ids", id) for id in target_ids)))
    versions = dict.fromkeys(dataset_ids, 1)
    after: str | None = None
    while True:
        page = tx.find_nodes(Label.AUDIT_EVENT, where, first=PAGE_SIZE, after=after)
        for _, props in page.items:
            for dataset_id in _datasets_of(props) & set(result):
                entry = entry_of(props, versions[dataset_id], show_by=show_by)
                versions[dataset_id] = entry.version
                result[dataset_id].append(entry)
        if not page.has_next:
            return result
        after = page.end_cursor


def _datasets_of(props: Props) -> set[str]:
    """The datasets whose history an event belongs to: the one its change names, else every target.

    A correction also targets the downstream datasets it affects; it is part of the corrected dataset's history.
    """
    named = json.loads(str(props.get("change_json") or "{}")).get("dataset_id")
    return {named} if isinstance(named, str) else set(props.get("target_ids") or [])


def entry_of(props: Props, current_version: int, *, show_by: bool = True) -> HistoryEntry:
    """One stored audit event as a history entry. Events that do not change the version keep `current_version`."""
    change: dict[str, Any] = json.loads(str(props.get("change_json") or "{}"))
    # An update nests its diff under "changes" beside its reason; a registration is the diff itself.
    body = change["changes"] if isinstance(change.get("changes"), dict) else change
    version = _after(body.get("version"))
    reason = change.get("reason")
    if not isinstance(reason, str) and isinstance(change.get("description"), str):
        reason = change["description"]  # a correction's description is why it was issued
    return HistoryEntry(
        sequence=int(props["sequence"]),
        version=version if isinstance(version, int) else current_version,
        at=datetime.fromisoformat(str(props["at"])),
        by=str(props["principal_id"]) if show_by else None,
        action=str(props["action"]),
        changes=field_changes(body),
        reason=reason if isinstance(reason, str) else None,
        severity=_severity(change.get("severity")),
    )


def field_changes(body: dict[str, Any]) -> list[FieldChange]:
    """Every `{before, after}` pair in a change, with stored `<name>_json` values decoded under `<name>`."""
    changes = []
    for key, value in sorted(body.items()):
        if not (isinstance(value, dict) and set(value) == {"before", "after"}):
            continue  # a note about the change (a reason, a severity), not a changed property
        name = key.removesuffix(JSON_SUFFIX)
        if name in UNLISTED:
            continue
        before, after = value["before"], value["after"]
        if key.endswith(JSON_SUFFIX):
            before, after = _decoded(before), _decoded(after)
        changes.append(FieldChange(name, before, after))
    return changes


def _after(value: Any) -> Any:
    return value.get("after") if isinstance(value, dict) else None


def _severity(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("after")
    return str(value) if value else None


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
