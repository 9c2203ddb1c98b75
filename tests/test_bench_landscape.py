"""The generated landscapes are what the benchmark issue asks for, the same for the same seed, and acyclic."""

from __future__ import annotations

import pytest

from bench.landscape import CHAIN_DEPTH, Landscape, generate
from catalog.store.schema import Label, Rel


@pytest.fixture(scope="module")
def large() -> Landscape:
    return generate("L")


def _inputs(land: Landscape) -> dict[str, list[str]]:
    """Derived dataset -> the datasets its generating process used."""
    used: dict[str, list[str]] = {}
    for process, source in land.edges[Rel.USED]:
        used.setdefault(process, []).append(source)
    return {output: sorted(used[process]) for output, process in land.edges[Rel.GENERATED_BY]}


def _children(land: Landscape) -> dict[str, list[str]]:
    """Dataset -> the datasets derived from it."""
    children: dict[str, list[str]] = {}
    for output, sources in _inputs(land).items():
        for source in sources:
            children.setdefault(source, []).append(output)
    return children


def test_size_l_has_the_counts_the_issue_names(large: Landscape) -> None:
    counts = {label: len(large.nodes[label]) for label in (Label.DATASET, Label.AGENCY, Label.PERSON, Label.AGREEMENT)}

    assert counts == {Label.DATASET: 100_000, Label.AGENCY: 200, Label.PERSON: 5_000, Label.AGREEMENT: 20_000}
    assert 300_000 <= large.lineage_edges <= 320_000


def test_size_l_hubs_feed_a_thousand_children_and_chains_run_forty_deep(large: Landscape) -> None:
    children, inputs = _children(large), _inputs(large)

    assert all(len(set(children[hub])) >= 1_000 for hub in large.hubs)
    for head in large.chain_heads:
        depth, current = 0, head
        while depth < CHAIN_DEPTH:  # a chain step is a dataset derived from the previous one alone
            steps = [child for child in children.get(current, []) if inputs[child] == [current]]
            if not steps:
                break
            current, depth = steps[0], depth + 1
        assert depth == CHAIN_DEPTH, head


def test_the_same_seed_gives_the_same_landscape_and_another_seed_another() -> None:
    first, again, other = generate("S", seed=3), generate("S", seed=3), generate("S", seed=4)

    assert first.nodes == again.nodes and first.edges == again.edges
    assert first.edges != other.edges


def test_every_input_precedes_its_output_so_lineage_is_acyclic() -> None:
    land = generate("S")
    position = {id: n for n, id in enumerate(sorted(land.nodes[Label.DATASET]))}

    assert all(position[source] < position[output] for source, outputs in _children(land).items() for output in outputs)
