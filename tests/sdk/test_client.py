"""The SDK registers a fitted estimator directly, with everything needed to govern it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.helpers import admin_token_of, fitted_model, people, training_frame

from modelsteward import Client, Conflict, NotFound, UntrustedArtifact
from modelsteward.context import Steward
from modelsteward.registry.loading import load_model


@pytest.fixture
def client(steward: Steward, server: str) -> Client:
    with Client(server, admin_token_of(steward)) as c:
        yield c


def test_register_a_fitted_estimator_like_mlflow_log_model(
    client: Client, steward: Steward
) -> None:
    people(steward, "ana")
    frame, labels = training_frame()
    model = fitted_model()
    version = client.register(
        model,
        name="churn",
        sample=frame,
        training_data=frame.assign(label=labels),
        training_data_uri="s3://lake/churn.parquet",
        metrics={"auc": 0.9},
        params={"C": 1.0},
        owner="ana",
        risk_tier="high",
    )
    assert (version["version"], version["flavor"]) == (1, "sklearn")
    assert [c["name"] for c in version["input_schema"]["columns"]] == ["age", "income"]
    assert version["input_schema"]["columns"][0]["type"] == "integer"
    assert version["output_schema"]["columns"][0]["type"] == "tensor"
    data = version["training_data"]
    assert (data["uri"], data["rows"], len(data["sha256"])) == ("s3://lake/churn.parquet", 80, 64)
    assert data["profile"]["columns"]["income"]["kind"] == "numeric"
    assert "scikit-learn" in version["dependencies"]["packages"]
    assert client.get_model("churn")["owner"] == "ana"

    loaded = load_model(steward, "churn", 1)
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_download_alias_and_archive(client: Client, tmp_path: Path) -> None:
    frame, _ = training_frame()
    client.register(fitted_model(), name="churn", sample=frame)
    client.register(fitted_model(seed=1), name="churn", sample=frame, lineage={"parent_version": 1})
    client.set_alias("churn", "champion", 2)
    assert client.get_version("churn", "champion")["version"] == 2
    written = client.download("churn", "champion", tmp_path / "out")
    assert [p.name for p in written] == ["model.skops"]
    with pytest.raises(Conflict):
        client.archive("churn", 2)
    assert client.archive("churn", 1)["status"] == "archived"
    assert [h["to_version"] for h in client.alias_history("churn")] == [2]


def test_errors_come_back_as_the_same_exceptions(client: Client) -> None:
    with pytest.raises(NotFound, match="ghost"):
        client.get_model("ghost")
    client.create_model("dup")
    with pytest.raises(Conflict):
        client.create_model("dup")


def test_code_executing_formats_need_trust_to_load(
    client: Client, steward: Steward, tmp_path: Path
) -> None:
    frame, _ = training_frame()
    with pytest.raises(UntrustedArtifact):
        client.register(fitted_model(), name="legacy", flavor="pickle", sample=frame)
    version = client.register(
        fitted_model(),
        name="legacy",
        flavor="pickle",
        sample=frame,
        trust_reason="built by our own CI job 4411",
    )
    assert version["trust"]["granted_by"] == "admin"  # the admin may grant trust
    assert load_model(steward, "legacy", 1).predict(frame).shape == (80,)


def test_a_data_scientist_cannot_trust_their_own_pickle(
    client: Client, steward: Steward, server: str
) -> None:
    from tests.helpers import token_for

    frame, _ = training_frame()
    with Client(server, token_for(steward, "data-scientist")) as scientist:
        version = scientist.register(
            fitted_model(), name="legacy", flavor="pickle", sample=frame, trust_reason="old model"
        )
        assert version["trust"]["granted_by"] is None
        with pytest.raises(UntrustedArtifact, match="trust"):
            load_model(steward, "legacy", 1)
        with pytest.raises(Exception, match="trust.grant"):
            scientist.grant_trust("legacy", 1, "I promise")
    with Client(server, token_for(steward, "risk-manager")) as risk:
        assert risk.grant_trust("legacy", 1, "reviewed the training job")["trust"]["granted_by"]
    assert load_model(steward, "legacy", 1).predict(frame).shape == (80,)
