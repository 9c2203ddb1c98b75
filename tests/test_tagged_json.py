"""The tagged-JSON codec that keeps a keyed mutation's result: exact round trips of our models, and nothing
outside the catalog's own models, dataclasses and enums is ever rebuilt from stored text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from catalog.domain import Dataset, DatasetField, PiiTag
from catalog.services import tagged_json
from catalog.store.base import Impact, ImpactAgreement


def test_models_dataclasses_and_enums_come_back_as_they_were() -> None:
    dataset = Dataset(
        id="beds",
        title="Hospital beds",
        owner_agency_id="health",
        fields=[DatasetField(name="person_id", pii=PiiTag.DIRECT_IDENTIFIER)],
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    impact = Impact({"beds": 0}, {"a": ImpactAgreement("a", "ACTIVE", "social", ["beds"], "2027-01-01")})
    value = (dataset, impact, {"when": date(2026, 1, 2), ("a", 1): {"x"}}, [None, True, 1.5])

    again = tagged_json.decode(tagged_json.encode(value))

    assert again == value
    assert type(again[0].fields[0].pii) is PiiTag


@pytest.mark.parametrize(
    "tag",
    [
        {"$dataclass": "subprocess:Popen", "fields": {}},
        {"$model": "os:system", "fields": {}},
        {"$dataclass": "catalog.cli:main", "fields": {}},
        {"$model": "catalog.store.base:Impact", "fields": {}},
    ],
    ids=["outside-the-catalog", "a-function", "a-catalog-function", "a-dataclass-as-a-model"],
)
def test_nothing_but_catalog_models_dataclasses_and_enums_is_rebuilt(tag: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="tagged JSON"):
        tagged_json.decode(json.dumps(tag))


def test_a_value_it_cannot_keep_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot keep a object"):
        tagged_json.encode(object())
