"""What every write page shares: turning a service's InvalidInput into an error beside the field it names, and
reading dates from a form. A form with an error is shown again with what was typed, and nothing is written (the
services check input before they write, and roll back if they find a problem while writing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from catalog.errors import InvalidInput

ITEM = re.compile(r"\.\d+$")  # `dataset_ids.0` is an error in the `dataset_ids` control


def field_errors(exc: InvalidInput, prefix: str = "") -> dict[str, str]:
    """`{control name: "field: rule"}` for the form control the error is about; `prefix` names which form
    (a page with several forms)."""
    return {prefix + ITEM.sub("", exc.field): exc.message}


def date_field(field: str, raw: str | None) -> datetime | None:
    """A `YYYY-MM-DD` date from a form, as midnight UTC; None when left empty."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(field, "must be a date, YYYY-MM-DD") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
