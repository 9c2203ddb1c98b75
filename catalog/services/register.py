"""The public register of sharing agreements, in the column set of one jurisdiction's scheme.

Three schemes: the UK Digital Economy Act 2017 Part 5 register of information sharing agreements (`uk-dea`),
Ireland's Data Sharing and Governance Act 2019 (`ie-dsga`) and Australia's Data Availability and Transparency
Act 2022 (`au-dat`). Each scheme's columns, in order, are its published column list where one is published and
otherwise what its statute says an agreement must state (sources: README, "A public register of agreements").

The register is public by nature, so it is built as an anonymous reader sees the catalog, through the same
policy-decided read path as the DCAT export: only agreements whose register entry (read_register) an anonymous
caller may read are listed, and of those, only the datasets an anonymous caller may see are named (a hidden one is
not even counted). It carries public fields only: agencies' names, purposes, datasets' titles, dates, the legal
basis, the status and the particulars given for the register. Never a person: no requester, approver, steward
or contact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from catalog.domain import Agency, Dataset, SharingAgreement
from catalog.errors import InvalidInput
from catalog.policy.vocabulary import Vocabulary
from catalog.principal import ANONYMOUS
from catalog.services.agreements import Agreements
from catalog.services.reads import Reads

Output = Literal["csv", "json"]
OUTPUTS: tuple[Output, ...] = ("csv", "json")
MEDIA_TYPES: dict[Output, str] = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
# A cell a spreadsheet would run as a formula is written with a leading apostrophe (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Entry:
    """One agreement as an anonymous reader may see it, with the names the register prints."""

    agreement: SharingAgreement
    agencies: dict[str, Agency]
    datasets: list[Dataset]  # only those an anonymous reader may see, in the agreement's order
    vocabulary: Vocabulary
    now: datetime

    def agency(self, id: str) -> str:
        return self.agencies[id].name if id in self.agencies else id

    @property
    def provider(self) -> str:
        return self.agency(self.agreement.provider_agency_id)

    @property
    def recipient(self) -> str:
        return self.agency(self.agreement.recipient_agency_id)

    @property
    def purpose(self) -> str:
        try:
            return self.vocabulary.purpose(self.agreement.purpose).label
        except KeyError:  # a purpose removed from the vocabulary since: its id is all there is
            return self.agreement.purpose

    @property
    def disclosed(self) -> str:
        """Each visible dataset's title, with the approved fields that are its own."""
        approved = set(self.agreement.approved_fields)
        parts = []
        for dataset in self.datasets:
            fields = [f.name for f in dataset.fields if f.name in approved]
            parts.append(f"{dataset.title} ({', '.join(fields)})" if fields else dataset.title)
        return "; ".join(parts)

    @property
    def described(self) -> str:
        """The project's summary, then the public interest it serves (its expected benefits), as given."""
        particulars = self.agreement.particulars
        return " ".join(text for text in (particulars.summary, particulars.expected_benefits) if text)

    @property
    def legal_basis(self) -> str:
        basis = self.agreement.legal_basis
        article = f"GDPR Art. 6 {basis.article6.value.replace('_', ' ').lower()}"
        return f"{basis.statute}; {article}" if basis.statute else article

    @property
    def status(self) -> str:
        return self.agreement.status_at(self.now).value


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def _blank(entry: Entry) -> str:
    """A column the scheme names and the catalog does not hold."""
    return ""


Column = tuple[str, Callable[[Entry], str]]


@dataclass(frozen=True)
class Scheme:
    id: str
    title: str
    source: str  # where the column list comes from
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        return [name for name, _ in self.columns]

    def row(self, entry: Entry) -> list[str]:
        return [value(entry) for _, value in self.columns]


def _p(name: str) -> Callable[[Entry], str]:
    """A text particular given with the share request."""
    return lambda e: str(getattr(e.agreement.particulars, name))


UK_DEA = Scheme(
    "uk-dea",
    "Information sharing agreements under chapters 1, 2, 3 and 4 of part 5 of the Digital Economy Act 2017",
    "https://www.registers.service.gov.uk/registers/information-sharing-agreement-0001",
    (
        ("Information sharing agreement 0001", lambda e: e.agreement.id),
        ("Name", lambda e: e.agreement.particulars.title or e.agreement.id),
        ("Purpose", lambda e: e.agreement.particulars.summary or e.purpose),
        ("Information sharing benefits", _p("expected_benefits")),
        ("Legal power disclosure", lambda e: e.legal_basis),
        ("Disclosed information", lambda e: e.disclosed),
        ("Controllers", lambda e: "; ".join((e.agreement.provider_agency_id, e.agreement.recipient_agency_id))),
        ("Controller names", lambda e: "; ".join((e.provider, e.recipient))),
        ("Information sharing method", lambda e: e.agreement.access_method.value),
        ("Processors", _blank),
        ("Processor names", _blank),
        ("Retention period", _p("retention")),
        ("Start date", lambda e: _day(e.agreement.valid_from)),
        ("End date", lambda e: _day(e.agreement.valid_until)),
        ("Review date", lambda e: _day(e.agreement.particulars.review_date)),
        ("Contact", _blank),  # a contact is a person's address: never published from here
        ("Areas", _blank),
        ("Area names", _blank),
    ),
)

IE_DSGA = Scheme(
    "ie-dsga",
    "Data-sharing agreements under the Data Sharing and Governance Act 2019 (Ireland)",
    "https://www.irishstatutebook.ie/2019/en/act/pub/0005/sec0019.html",
    (
        ("Agreement", lambda e: e.agreement.id),
        ("Title", lambda e: e.agreement.particulars.title),
        ("Parties", lambda e: "; ".join((e.provider, e.recipient))),
        ("Information to be disclosed", lambda e: e.disclosed),
        ("Purpose", lambda e: e.agreement.particulars.summary or e.purpose),
        ("Function of the public body", _p("function")),
        ("Legal basis", lambda e: e.legal_basis),
        ("Impetus for disclosure", _blank),
        ("Individual or classes of data subjects", _blank),
        ("Once-off or ongoing", lambda e: f.value if (f := e.agreement.particulars.frequency) else ""),
        ("Processing after disclosure", _p("further_processing")),
        ("Restrictions on further disclosure", _blank),
        ("DPIA summary", _p("dpia_summary")),
        ("Security measures", _p("security_measures")),
        ("Retention", _p("retention")),
        ("Effective date", lambda e: _day(e.agreement.valid_from)),
        ("End date", lambda e: _day(e.agreement.valid_until)),
        ("Review date", lambda e: _day(e.agreement.particulars.review_date)),
        ("Status", lambda e: e.status),
    ),
)

AU_DAT = Scheme(
    "au-dat",
    "Registered data sharing agreements under the Data Availability and Transparency Act 2022 (Australia)",
    "https://datacommissioner.gov.au/DSR-02465",
    (
        ("Lead Custodian", lambda e: e.provider),
        ("Additional Custodian/s", _blank),  # an agreement here has one provider
        ("Lead Requestor", lambda e: e.recipient),
        ("Accredited Data Service Provider", _blank),
        ("Additional Requestors", _blank),  # and one recipient
        ("DSR Number", lambda e: e.agreement.id),
        ("Project title", lambda e: e.agreement.particulars.title),
        # Made and registered at once: an agreement is recorded here when its share request is approved.
        ("Agreement date", lambda e: _day(e.agreement.created_at)),
        ("Registration date", lambda e: _day(e.agreement.created_at)),
        ("Expiry date", lambda e: _day(e.agreement.valid_until)),
        ("Data sharing purpose", lambda e: e.purpose),
        ("Project description and public interest statement", lambda e: e.described),
        ("Legislation overridden", _blank),
        ("Privacy obligation", _blank),
        ("Description of shared data", lambda e: e.disclosed),
    ),
)

SCHEMES: dict[str, Scheme] = {scheme.id: scheme for scheme in (UK_DEA, IE_DSGA, AU_DAT)}


def scheme_named(id: str, parameter: str = "scheme") -> Scheme:
    """The scheme `id`; InvalidInput naming `parameter` and the allowed values otherwise."""
    if id not in SCHEMES:
        raise InvalidInput(parameter, f"must be one of {', '.join(SCHEMES)}")
    return SCHEMES[id]


@dataclass(frozen=True)
class RegisterTable:
    scheme: Scheme
    rows: list[list[str]]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.scheme.header)
        writer.writerows([[_cell(value) for value in row] for row in self.rows])
        return out.getvalue()

    def json(self) -> str:
        header = self.scheme.header
        document = {
            "scheme": self.scheme.id,
            "title": self.scheme.title,
            "source": self.scheme.source,
            "columns": header,
            "entries": [dict(zip(header, row, strict=True)) for row in self.rows],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

    def render(self, output: Output) -> str:
        return self.csv() if output == "csv" else self.json()


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


class Register:
    """The public register, built as an anonymous reader sees the catalog."""

    def __init__(self, agreements: Agreements, reads: Reads, vocabulary: Vocabulary, page_size: int) -> None:
        self.agreements = agreements
        self.reads = reads
        self.vocabulary = vocabulary
        self.page_size = page_size

    def table(self, scheme_id: str) -> RegisterTable:
        """Every agreement an anonymous reader may read, in id order, as rows of the scheme's columns."""
        scheme = scheme_named(scheme_id)
        return RegisterTable(scheme, [scheme.row(entry) for entry in self.entries()])

    def entries(self) -> Iterator[Entry]:
        """Page by page: the agencies and the datasets of a page's agreements in one read each."""
        now = self.agreements.ctx.clock()
        for page in self._public_pages():
            agencies = self.reads.agencies_by_ids(
                sorted({id for a in page for id in (a.provider_agency_id, a.recipient_agency_id)})
            )
            visible = self.reads.datasets_by_ids(ANONYMOUS, sorted({id for a in page for id in a.dataset_ids}))
            for agreement in page:
                datasets = [visible[id] for id in agreement.dataset_ids if id in visible]
                yield Entry(agreement, agencies, datasets, self.vocabulary, now)

    def _public_pages(self) -> Iterator[list[SharingAgreement]]:
        after: str | None = None
        while True:
            listing = self.agreements.register_entries(ANONYMOUS, self.page_size, after)
            yield listing.items
            if not listing.has_next:
                return
            after = listing.end_cursor


__all__ = ["MEDIA_TYPES", "OUTPUTS", "SCHEMES", "Output", "Register", "RegisterTable", "Scheme", "scheme_named"]
