"""A refused upload leaves no bytes in the artifact store; fsck names any that are left."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import httpx
import pytest
from tests.helpers import sklearn_spec, skops_file, upload, version_form

from modelsteward.context import Steward
from modelsteward.store.fsck import run_fsck


def _stored(steward: Steward) -> set[str]:
    return set(steward.artifacts.list_blobs())


def _staged(steward: Steward) -> list[str]:
    return list(steward.artifacts.fs.find(f"{steward.artifacts.root}/staging"))


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"{}")
        archive.writestr("0.npy", b"\0" * (200 << 20))
    return path


def _pickled(path: Path) -> Path:
    path.write_bytes(pickle.dumps({"weights": list(range(2_000_000))}))  # > one chunk
    return path


REFUSED = {
    "pickle without a trust decision": (
        lambda d: _pickled(d / "model.pkl"),
        {"flavor": "pickle", "files": [{"role": "model", "name": "model.pkl"}]},
        422,
    ),
    "zip bomb": (lambda d: _zip_bomb(d / "model.skops"), sklearn_spec(), 422),
    "garbage": (
        lambda d: (d / "model.skops").write_bytes(b"\x00garbage" * 300_000) and d / "model.skops",
        sklearn_spec(),
        422,
    ),
    "a parent version that does not exist": (
        lambda d: skops_file(d),
        sklearn_spec(lineage={"parent_version": 7}),
        422,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_upload_leaves_no_bytes_behind(
    api: httpx.Client, steward: Steward, tmp_path: Path, case: str
) -> None:
    make, spec, status = REFUSED[case]
    api.post("/api/v1/models", json={"name": "churn"})
    path = make(tmp_path)
    before = _stored(steward)
    response = api.post(
        "/api/v1/models/churn/versions", data=version_form(spec), files=[upload(path)]
    )
    assert response.status_code == status, response.text
    assert _stored(steward) == before
    assert not _staged(steward)
    assert run_fsck(steward).orphan_blobs == ()


def test_a_file_too_large_takes_the_files_stored_before_it_with_it(tmp_path: Path) -> None:
    from tests.helpers import admin_token_of, settings_for

    from modelsteward.api.server import serve_in_thread
    from modelsteward.identity.users import ensure_bootstrap_admin

    limit = 3 * 1024 * 1024
    small = Steward(settings_for(tmp_path / "h", STEWARD_MAX_UPLOAD_BYTES=str(limit)))
    ensure_bootstrap_admin(small)
    model = skops_file(tmp_path)
    first = ("file", ("a.bin", b"a" * (1024 * 1024 + 100_000), "application/octet-stream"))
    second = ("file", ("b.bin", b"b" * (limit + 1024), "application/octet-stream"))
    spec = sklearn_spec(
        files=[
            {"role": "model", "name": "model.skops"},
            {"role": "extra", "name": "a.bin"},
            {"role": "extra", "name": "b.bin"},
        ]
    )
    headers = {"Authorization": f"Bearer {admin_token_of(small)}"}
    try:
        with serve_in_thread(small) as url, httpx.Client(base_url=url, headers=headers) as api:
            api.post("/api/v1/models", json={"name": "big"})
            response = api.post(
                "/api/v1/models/big/versions",
                data={"spec": json.dumps(spec)},
                files=[upload(model), first, second],
            )
            assert response.status_code == 413, response.text
        assert _stored(small) == set() and not _staged(small)
    finally:
        small.close()


def test_bytes_a_registered_version_holds_are_kept_when_a_later_upload_is_refused(
    api: httpx.Client, steward: Steward, tmp_path: Path
) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    model = skops_file(tmp_path)
    ok = api.post(
        "/api/v1/models/churn/versions", data=version_form(sklearn_spec()), files=[upload(model)]
    )
    assert ok.status_code == 201, ok.text
    kept = _stored(steward)
    bad = sklearn_spec(lineage={"parent_version": 7})
    refused = api.post(
        "/api/v1/models/churn/versions", data=version_form(bad), files=[upload(model)]
    )
    assert refused.status_code == 422
    assert _stored(steward) == kept
    assert (
        api.get("/api/v1/models/churn/versions/1/files/model.skops").content == model.read_bytes()
    )


def test_fsck_names_orphaned_blobs(steward: Steward) -> None:
    from tests.cli.test_cli import steward_cli

    blob = steward.artifacts.put_bytes(b"left behind by a killed process")
    assert run_fsck(steward).orphan_blobs == (blob.sha256,)
    checked = steward_cli("fsck", env={"STEWARD_HOME": str(steward.settings.home)})
    assert checked.returncode == 0, checked.stderr
    assert f"orphaned blob {blob.sha256}" in checked.stdout
    assert "1 orphaned blob(s); steward fsck --gc" in checked.stdout
