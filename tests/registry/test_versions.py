"""Registering immutable versions over the API, and every way bad input is refused."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from tests.helpers import settings_for, sklearn_spec, skops_file, token_for, upload, version_form

from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward
from modelsteward.errors import InvalidInput, NotFound
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.aliases import set_alias
from modelsteward.registry.models import create_model, get_model, set_model_status
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import (
    get_version,
    list_versions,
    register_version,
    set_version_status,
)
from modelsteward.registry.views import VersionView
from modelsteward.store.artifacts import StoredBlob

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
    before = store_counts(steward)
    spec = {
        "flavor": "sklearn",
        "files": [{"role": "model", "name": "model.skops", "sha256": "0" * 64}],
    }
    response = api.post(
        "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(model_file)]
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "integrity_failure"
    assert store_counts(steward) == before


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_model_files_are_refused(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path, tmp_path: Path, damage: str
) -> None:
    data = model_file.read_bytes()
    broken = tmp_path / "model.skops"
    broken.write_bytes(
        {"truncated": data[: len(data) // 2], "garbage": b"\x00garbage" * 50, "empty": b""}[damage]
    )
    before = store_counts(steward)
    response = register(api, churn, broken)
    assert response.status_code == 422
    assert store_counts(steward)[:2] == before[:2]


def test_upload_over_the_limit_is_refused_with_413(tmp_path: Path) -> None:
    from tests.helpers import admin_token_of, settings_for

    from modelsteward.api.server import serve_in_thread

    small = Steward(settings_for(tmp_path / "h", STEWARD_MAX_UPLOAD_BYTES="1024"))
    from modelsteward.identity.users import ensure_bootstrap_admin

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
            "/api/v1/models/churn/versions",
            data=version_form(sklearn_spec()),
            files=[upload(model_file)],
        )
        assert response.status_code == 403
    with httpx.Client(
        base_url=server, headers={"Authorization": "Bearer stw_not-a-token"}
    ) as wrong:
        assert wrong.get("/api/v1/models").status_code == 401
    assert store_counts(steward)[0] == 0


def _register_service(steward: Steward, name: str, path: Path, **spec: object) -> VersionView:
    blob = steward.artifacts.put_file(path)
    return register_version(
        steward,
        SYSTEM,
        name,
        VersionSpec.model_validate(sklearn_spec(**spec)),
        {"model.skops": blob},
    )


def test_what_registration_returns_is_what_is_read_back(
    any_steward: Steward, model_file: Path
) -> None:
    create_model(any_steward, SYSTEM, ModelSpec(name="churn"))
    registered = _register_service(
        any_steward,
        "churn",
        model_file,
        input_schema=SCHEMA,
        params={"C": 1.0, "nested": {"k": [1, 2]}},
        metadata={"ticket": "ML-12"},
        tags={"stage": "candidate"},
    )
    assert registered.model_dump() == get_version(any_steward, "churn", 1).model_dump()
    assert registered.metadata["flavor"]["estimator"].endswith("LogisticRegression")
    assert [v.model_dump() for v in list_versions(any_steward, "churn")] == [
        registered.model_dump()
    ]


def test_a_version_shows_every_alias_it_holds_however_it_is_read(
    any_steward: Steward, model_file: Path
) -> None:
    create_model(any_steward, SYSTEM, ModelSpec(name="churn"))
    for _ in range(3):
        _register_service(any_steward, "churn", model_file)
    set_alias(any_steward, SYSTEM, "churn", "champion", 2)
    set_alias(any_steward, SYSTEM, "churn", "staging", 2)
    set_alias(any_steward, SYSTEM, "churn", "canary", 3)
    for ref in (2, "2", "champion", "staging"):
        found = get_version(any_steward, "churn", ref)
        assert (found.version, found.aliases) == (2, ["champion", "staging"]), ref
    listed = list_versions(any_steward, "churn")
    assert [(v.version, v.aliases) for v in listed] == [
        (3, ["canary"]),
        (2, ["champion", "staging"]),
        (1, []),
    ]
    set_version_status(any_steward, SYSTEM, "churn", 1, "archived")
    assert [v.version for v in list_versions(any_steward, "churn", include_archived=False)] == [
        3,
        2,
    ]
    set_model_status(any_steward, SYSTEM, "churn", "archived")
    assert get_version(any_steward, "churn", "canary").version == 3  # still readable


@pytest.mark.parametrize(
    "ref", [0, -1, "0", "4", "99999999999999999999", "²", "٣", "no-such-alias", "CHAMPION"]
)
def test_versions_that_do_not_exist_are_not_found(
    steward: Steward, model_file: Path, ref: str | int
) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    _register_service(steward, "churn", model_file)
    set_alias(steward, SYSTEM, "churn", "champion", 1)
    with pytest.raises(NotFound, match="has no version"):
        get_version(steward, "churn", ref)
    with pytest.raises(NotFound, match="model 'ghost' not found"):
        get_version(steward, "ghost", 1)
    with pytest.raises(NotFound, match="model 'ghost' not found"):
        list_versions(steward, "ghost")
    create_model(steward, SYSTEM, ModelSpec(name="empty"))
    assert list_versions(steward, "empty") == []


def test_an_archived_model_refuses_a_version_before_the_upload_is_stored(
    api: httpx.Client, steward: Steward, churn: str, model_file: Path
) -> None:
    api.post("/api/v1/models/churn/archive")
    before = store_counts(steward)
    response = register(api, churn, model_file)
    assert response.status_code == 409 and "archived" in response.json()["error"]["message"]
    assert store_counts(steward) == before  # no version, no record, no blob


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_missing_or_archived_model_is_the_answer_whatever_else_is_wrong(
    api: httpx.Client, steward: Steward, churn: str, tmp_path: Path, size: str
) -> None:
    """Small uploads are read before the model is checked, large ones after; either way
    the client hears about the model first, and nothing is stored."""
    from modelsteward.api.routes.versions import CHECK_FIRST_BYTES

    junk = tmp_path / "model.skops"
    junk.write_bytes(b"not a skops file" * ((CHECK_FIRST_BYTES if size == "large" else 64) // 8))
    api.post(f"/api/v1/models/{churn}/archive")
    before = store_counts(steward)
    for model, status in (("ghost", 404), (churn, 409)):
        for form in (version_form(sklearn_spec()), {"spec": "{oops"}, {}):
            response = api.post(f"/api/v1/models/{model}/versions", data=form, files=[upload(junk)])
            assert response.status_code == status, (model, form, response.text)
        unlisted = api.post(
            f"/api/v1/models/{model}/versions",
            data=version_form(sklearn_spec()),
            files=[upload(junk, name="other.bin")],
        )
        assert unlisted.status_code == status
    assert store_counts(steward) == before
    api.post(f"/api/v1/models/{churn}/restore")
    assert register(api, churn, junk).status_code == 422  # now the file itself is the problem


def test_parent_version_is_checked_in_the_same_transaction(
    steward: Steward, model_file: Path
) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    _register_service(steward, "churn", model_file)
    with pytest.raises(InvalidInput, match="parent_version 2"):
        _register_service(steward, "churn", model_file, lineage={"parent_version": 2})
    assert get_model(steward, "churn").latest_version == 1  # the drawn number was rolled back
    assert (
        _register_service(steward, "churn", model_file, lineage={"parent_version": 1}).version == 2
    )


@pytest.mark.parametrize("store", ["local", "memory"])
def test_a_damaged_file_is_named_as_uploaded_on_any_store(
    tmp_path: Path, model_file: Path, store: str
) -> None:
    artifacts = str(tmp_path / "a") if store == "local" else f"memory://v-{uuid.uuid4().hex}"
    instance = Steward(settings_for(tmp_path / "home", STEWARD_ARTIFACTS=artifacts))
    create_model(instance, SYSTEM, ModelSpec(name="churn"))
    broken = tmp_path / "broken" / "model.skops"
    broken.parent.mkdir()
    broken.write_bytes(model_file.read_bytes()[:300])
    blob = instance.artifacts.put_file(broken)
    spec = VersionSpec.model_validate(sklearn_spec())
    with pytest.raises(InvalidInput, match="^model.skops is not a readable skops file") as refused:
        register_version(instance, SYSTEM, "churn", spec, {"model.skops": blob})
    assert blob.sha256 not in refused.value.message
    good = instance.artifacts.put_file(model_file)
    assert register_version(instance, SYSTEM, "churn", spec, {"model.skops": good}).version == 1
    instance.close()


def test_a_missing_blob_is_not_found(steward: Steward) -> None:
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    spec = VersionSpec.model_validate(sklearn_spec())
    with pytest.raises(NotFound, match="missing from the artifact store"):
        register_version(steward, SYSTEM, "churn", spec, {"model.skops": StoredBlob("a" * 64, 1)})
    assert get_model(steward, "churn").latest_version == 0
