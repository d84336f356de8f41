"""Registering immutable versions over the API, and every way bad input is refused."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.helpers import sklearn_spec, skops_file, token_for, upload, version_form

from modelsteward.context import Steward
from modelsteward.governance.audit import verify_chain

SCHEMA = {"columns": [{"name": "age", "type": "integer"}, {"name": "income", "type": "float"}]}


def store_counts(steward: Steward) -> tuple[int, int, int]:
    """(versions, audit records, blobs on disk) — what bad input must leave unchanged."""
    from sqlalchemy import func, select

    from modelsteward.store.tables import AuditEvent, ModelVersion

    with steward.db.read() as session:
        versions = session.scalar(select(func.count()).select_from(ModelVersion)) or 0
        audits = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return versions, audits, len(list(steward.artifacts.list_blobs()))


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return skops_file(tmp_path / "m")


@pytest.fixture
def churn(api: httpx.Client) -> str:
    api.post("/api/v1/models", json={"name": "churn"})
    return "churn"


def register(api: httpx.Client, name: str, path: Path, **spec: object) -> httpx.Response:
    return api.post(
        f"/api/v1/models/{name}/versions",
        data=version_form(sklearn_spec(**spec)),
        files=[upload(path)],
    )


def test_versions_are_numbered_and_keep_everything_given(
    any_api: httpx.Client, model_file: Path
) -> None:
    any_api.post("/api/v1/models", json={"name": "churn"})
    spec = {
        "input_schema": SCHEMA,
        "training_data": {
            "uri": "s3://lake/churn/train.parquet",
            "rows": 80,
            "columns": ["age", "income"],
        },
        "code": {
            "repository": "https://git.example.com/churn",
            "commit": "abc1234",
            "entry_point": "train.py",
        },
        "dependencies": {"python": "3.11.7", "packages": {"scikit-learn": "1.5.0"}},
        "params": {"C": 1.0},
        "metrics": {"auc": 0.91},
        "metadata": {"ticket": "ML-12"},
        "lineage": {"datasets": ["s3://lake/churn/train.parquet"], "run": "run-7"},
        "tests": [{"name": "auc-floor", "type": "metric_min", "metric": "auc", "threshold": 0.8}],
        "tags": {"stage": "candidate"},
    }
    first = register(any_api, "churn", model_file, **spec)
    assert first.status_code == 201, first.text
    second = register(any_api, "churn", model_file, lineage={"parent_version": 1})
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    stored = any_api.get("/api/v1/models/churn/versions/1").json()
    for key in (
        "input_schema",
        "training_data",
        "code",
        "dependencies",
        "params",
        "metrics",
        "tests",
        "tags",
    ):
        assert stored[key] is not None and stored[key] != {}, key
    assert stored["metadata"]["ticket"] == "ML-12"
    assert (
        stored["files"][0]["sha256"]
        == __import__("hashlib").sha256(model_file.read_bytes()).hexdigest()
    )
    assert any_api.get("/api/v1/models/churn").json()["latest_version"] == 2
    assert [v["version"] for v in any_api.get("/api/v1/models/churn/versions").json()] == [2, 1]


def test_download_returns_the_exact_bytes(api: httpx.Client, churn: str, model_file: Path) -> None:
    register(api, churn, model_file)
    response = api.get("/api/v1/models/churn/versions/1/files/model.skops")
    assert response.status_code == 200 and response.content == model_file.read_bytes()
    assert api.get("/api/v1/models/churn/versions/1/files/../../etc/passwd").status_code == 404


def test_registration_is_audited_in_an_intact_chain(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path
) -> None:
    register(api, churn, model_file)
    events = api.get("/api/v1/audit", params={"object_type": "version"}).json()
    assert events[0]["action"] == "version.registered" and events[0]["object_id"] == "churn/1"
    with steward.db.read() as session:
        assert verify_chain(session).ok


def test_the_same_bytes_are_stored_once(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path
) -> None:
    register(api, churn, model_file)
    register(api, churn, model_file)
    assert len(list(steward.artifacts.list_blobs())) == 1


BAD_SPECS = {
    "unknown flavor": {"flavor": "tensorflow-magic"},
    "bad schema type": {"input_schema": {"columns": [{"name": "a", "type": "complex128"}]}},
    "duplicate columns": {"input_schema": {"columns": [{"name": "a", "type": "float"}] * 2}},
    "file uri": {"training_data": {"uri": "file:///etc/passwd"}},
    "escaping uri": {"training_data": {"uri": "s3://bucket/../../etc/passwd"}},
    "double-encoded escape": {"training_data": {"uri": "data/%252e%252e%252fsecret"}},
    "absolute path": {"training_data": {"uri": "/etc/shadow"}},
    "unknown field": {"surprise": 1},
    "deep metadata": {"metadata": json.loads('{"a":' * 40 + "1" + "}" * 40)},
    "nonexistent parent": {"lineage": {"parent_version": 7}},
    "metric not a number": {"metrics": {"auc": "high"}},
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_invalid_specs_are_refused_and_change_nothing(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path, case: str
) -> None:
    before = store_counts(steward)
    response = register(api, churn, model_file, **BAD_SPECS[case])
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]
    versions, audits, _ = store_counts(steward)
    assert (versions, audits) == before[:2]


@pytest.mark.parametrize(
    "name", ["../x.skops", "a/../../b", "/etc/passwd", "a\\b", "ok\x00.skops", "%2e%2e/x"]
)
def test_hostile_file_names_are_refused(
    api: httpx.Client, churn: str, model_file: Path, name: str
) -> None:
    spec = {"flavor": "sklearn", "files": [{"role": "model", "name": name}]}
    response = api.post(
        "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(model_file, name)]
    )
    assert response.status_code == 422


def test_hash_mismatch_is_refused(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path
) -> None:
    spec = {
        "flavor": "sklearn",
        "files": [{"role": "model", "name": "model.skops", "sha256": "0" * 64}],
    }
    response = api.post(
        "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(model_file)]
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "integrity_failure"
    assert store_counts(steward) == (0, 2, 0)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_model_files_are_refused(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path, tmp_path: Path, damage: str
) -> None:
    data = model_file.read_bytes()
    broken = tmp_path / "model.skops"
    broken.write_bytes(
        {"truncated": data[: len(data) // 2], "garbage": b"\x00garbage" * 50, "empty": b""}[damage]
    )
    response = register(api, churn, broken)
    assert response.status_code == 422
    assert store_counts(steward)[:2] == (0, 2)


def test_upload_over_the_limit_is_refused_with_413(tmp_path: Path) -> None:
    from tests.helpers import admin_token_of, settings_for

    from modelsteward.api.server import serve_in_thread

    small = Steward(settings_for(tmp_path / "h", STEWARD_MAX_UPLOAD_BYTES="1024"))
    from modelsteward.governance.identity import ensure_bootstrap_admin

    ensure_bootstrap_admin(small)
    with serve_in_thread(small) as url:
        client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {admin_token_of(small)}"}
        )
        client.post("/api/v1/models", json={"name": "big"})

        def body():  # streamed: the server must refuse without buffering it all
            yield (
                b'--zzz\r\nContent-Disposition: form-data; name="spec"\r\n\r\n'
                + json.dumps(sklearn_spec()).encode()
                + b'\r\n--zzz\r\nContent-Disposition: form-data; name="file"; '
                b'filename="model.skops"\r\n\r\n'
            )
            for _ in range(64):
                yield b"x" * (1024 * 1024)
            yield b"\r\n--zzz--\r\n"

        response = client.post(
            "/api/v1/models/big/versions",
            content=body(),
            headers={"content-type": "multipart/form-data; boundary=zzz"},
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        client.close()
    assert store_counts(small)[0] == 0
    small.close()


def test_missing_spec_or_files_is_a_clear_error(
    api: httpx.Client, churn: str, model_file: Path
) -> None:
    no_spec = api.post("/api/v1/models/churn/versions", files=[upload(model_file)])
    assert no_spec.status_code == 422 and "spec" in no_spec.json()["error"]["message"]
    no_file = api.post("/api/v1/models/churn/versions", data=version_form(sklearn_spec()), files=[])
    assert no_file.status_code in (400, 422)
    not_json = api.post(
        "/api/v1/models/churn/versions", data={"spec": "{oops"}, files=[upload(model_file)]
    )
    assert not_json.status_code == 400


def test_unknown_model_and_version_are_404(api: httpx.Client, model_file: Path) -> None:
    assert register(api, "ghost", model_file).status_code == 404
    api.post("/api/v1/models", json={"name": "real"})
    assert api.get("/api/v1/models/real/versions/3").status_code == 404
    assert api.get("/api/v1/models/real/versions/champion").status_code == 404


def test_roles_limit_who_registers(
    api: httpx.Client, server: str, steward: Steward, churn: str, model_file: Path
) -> None:
    viewer_auth = {"Authorization": f"Bearer {token_for(steward, 'viewer')}"}
    with httpx.Client(base_url=server, headers=viewer_auth) as viewer:
        assert viewer.get("/api/v1/models/churn").status_code == 200
        response = viewer.post(
            "/api/v1/models/churn/versions", data=version_form(sklearn_spec()), files=[upload(model_file)]
        )
        assert response.status_code == 403
    with httpx.Client(base_url=server, headers={"Authorization": "Bearer stw_not-a-token"}) as wrong:
        assert wrong.get("/api/v1/models").status_code == 401
    assert store_counts(steward)[0] == 0
