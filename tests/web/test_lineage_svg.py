"""Drawing a lineage view: colours follow the configured classification scheme, and a redacted node keeps its
place but shows and links nothing of the dataset behind it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from catalog.domain import Dataset, Process, ProcessKind
from catalog.services.lineage import LineageNode, LineageView
from catalog.web.lineage_svg import PALETTE, colour_index, draw, svg


def test_colours_spread_any_scheme_from_least_to_most_restrictive() -> None:
    four = ["PUBLIC", "OFFICIAL", "OFFICIAL_SENSITIVE", "PROTECTED"]
    two = ["OPEN", "CLOSED"]
    seven = [f"L{i}" for i in range(7)]

    assert [colour_index(r, four) for r in range(4)] == [0, 1, 2, 3]
    assert [colour_index(r, two) for r in range(2)] == [0, len(PALETTE) - 1]
    assert colour_index(0, seven) == 0 and colour_index(6, seven) == len(PALETTE) - 1


def test_a_redacted_dataset_is_drawn_without_a_link_or_anything_about_it() -> None:
    secret = "redacted-0123456789abcdef"
    shown = Dataset(id="open.stats", title="Open statistics", owner_agency_id="stats", classification="PUBLIC")
    process = Process(id="p-agg", name="Aggregate", kind=ProcessKind.AGGREGATE, inputs=[secret], outputs=["open.stats"])
    view = LineageView(
        root="open.stats",
        nodes=[
            LineageNode(id="open.stats", kind="DATASET", depth=0, dataset=shown),
            LineageNode(id="p-agg", kind="PROCESS", depth=0, process=process),
            LineageNode(id=secret, kind="DATASET", depth=1, redacted=True),
        ],
        edges=[("GENERATED_BY", "open.stats", "p-agg"), ("USED", "p-agg", secret)],
    )

    drawing = draw(view, ["PUBLIC", "OFFICIAL"], lambda id: f"/datasets/{id}/lineage")
    document = ET.fromstring(svg(drawing, title="t", standalone=True).split("?>", 1)[1])

    links = [e.attrib["href"] for e in document.iter("{http://www.w3.org/2000/svg}a")]
    hidden = next(e for e in document.iter() if e.attrib.get("data-id") == secret)
    assert links == ["/datasets/open.stats/lineage"]
    assert "redacted" in hidden.attrib["class"] and hidden.attrib["tabindex"] == "0"
    assert drawing.layout.boxes[secret].x < drawing.layout.boxes["p-agg"].x < drawing.layout.boxes["open.stats"].x
