"""The lineage drawing: versions in order, parent arrows, datasets and runs beside them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from modelsteward.web.lineage import MAX_VERSIONS, lineage_svg

if TYPE_CHECKING:
    from tests.web.conftest import MakeVersion


def test_each_declared_parent_gets_one_arrow_and_skips_arc_over_the_row(
    make_version: MakeVersion,
) -> None:
    versions = [
        make_version(1),
        make_version(2, lineage={"parent_version": 1}),
        make_version(3),
        make_version(4, lineage={"parent_version": 2}),
    ]
    svg = str(lineage_svg("m", versions, selected=4))
    edges = re.findall(r'<path d="([^"]+)" class="lineage-parent"', svg)
    assert len(edges) == 2
    assert " L" in edges[0] and " C" in edges[1]  # next door: straight; further: an arc
    assert svg.count("lineage-version is-selected") == 1
    assert 'href="/models/m/versions/3"' in svg


def test_shared_datasets_are_drawn_once_and_runs_sit_under_their_version(
    make_version: MakeVersion,
) -> None:
    shared = "s3://lake/bureau/scores.parquet"
    versions = [
        make_version(1, lineage={"datasets": [shared], "run": "runs/a"}),
        make_version(
            2,
            lineage={"datasets": [shared], "run": "runs/b"},
            training_data={"uri": "s3://lake/apps/2025.parquet"},
        ),
    ]
    svg = str(lineage_svg("m", versions, selected=None))
    assert svg.count('class="lineage-dataset"') == 2
    assert svg.count('class="lineage-data-edge"') == 3
    assert svg.count('class="lineage-run"') == 2
    assert "bureau/scores.parquet" in svg and "apps/2025.parquet" in svg


def test_nothing_is_drawn_outside_the_canvas(make_version: MakeVersion) -> None:
    uris = [f"s3://lake/data/set-{i}.parquet" for i in range(5)]
    svg = str(lineage_svg("m", [make_version(1, lineage={"datasets": uris})], selected=1))
    xs = [float(x) for x in re.findall(r'<rect x="(-?[\d.]+)"', svg)]
    width = re.search(r'width="([\d.]+)"', svg)
    assert width is not None
    assert min(xs) >= 0 and max(xs) < float(width.group(1))


def test_labels_are_escaped(make_version: MakeVersion) -> None:
    svg = str(lineage_svg("m", [make_version(1, lineage={"run": "<script>x</script>"})], None))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_only_the_newest_versions_are_drawn(make_version: MakeVersion) -> None:
    versions = [make_version(n) for n in range(1, MAX_VERSIONS + 6)]
    svg = str(lineage_svg("m", versions, selected=None))
    assert svg.count('<a href="/models/m/versions/') == MAX_VERSIONS
    assert 'href="/models/m/versions/5"' not in svg
    assert f'href="/models/m/versions/{MAX_VERSIONS + 5}"' in svg
