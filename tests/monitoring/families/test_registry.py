"""The families registry: the one allow-list monitor specs resolve through, kept documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.families.registry import FAMILIES, parse_spec

DOCS = Path(__file__).resolve().parents[3] / "docs" / "monitoring.md"


def test_every_registered_family_is_documented_and_every_documented_one_registered() -> None:
    text = DOCS.read_text()
    table = text.split("### Families and their metrics", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert sorted(documented) == sorted(FAMILIES)


REQUIRED: dict[str, dict[str, str]] = {
    "fairness": {"attribute": "sex"},
    "business_kpi": {"function": "positive_rate"},
}


@pytest.mark.parametrize("kind", list(FAMILIES))
def test_each_family_parses_its_own_type_to_its_spec_class(kind: str) -> None:
    family = FAMILIES[kind]
    spec = parse_spec({"type": kind, **REQUIRED.get(kind, {})})
    assert type(spec) is family.spec
    assert family.type == kind
    assert family.summary


def test_an_unknown_type_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="monitor type must be one of data_quality, "):
        parse_spec({"type": "sentiment"})
