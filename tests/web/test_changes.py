"""Audit events summarised for the model page's trail."""

from __future__ import annotations

from modelsteward.web.changes import summarize


def test_updates_show_each_changed_field_from_and_to() -> None:
    before = {"owner": "ann", "risk_tier": "medium", "team": "a"}
    after = {"owner": "ann", "risk_tier": "high", "team": "b"}
    assert summarize("model.updated", before, after) == "risk_tier: medium → high; team: a → b"


def test_alias_moves_read_as_version_arrows() -> None:
    moved = summarize(
        "alias.moved", {"alias": "champion", "version": 2}, {"alias": "champion", "version": 3}
    )
    assert moved == "champion: v2 → v3"
    assert summarize("alias.removed", {"alias": "staging", "version": 1}, None) == "staging: v1 → —"


def test_creations_list_key_facts_without_hashes_and_file_lists() -> None:
    after = {
        "version": 3,
        "flavor": "sklearn",
        "content_hash": "ab" * 32,
        "files": [{"name": "model.skops"}],
        "trust": None,
    }
    assert summarize("version.registered", None, after) == "version=3; flavor=sklearn"


def test_long_values_are_cut_and_extra_fields_counted() -> None:
    after = {f"field{i}": "x" * 100 for i in range(5)}
    summary = summarize("model.created", None, after)
    assert summary.endswith("; +2 more") and "…" in summary
