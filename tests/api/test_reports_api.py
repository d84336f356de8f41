"""POST /api/v1/reports: two uploads in, the report as JSON or one self-contained page out;
bad uploads get one clear JSON error, and nothing is ever stored."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from tests.helpers import admin_token_of, fitted_model, settings_for, token_for, training_frame

from modelsteward import Client
from modelsteward.api.server import serve_in_thread
from modelsteward.context import Steward
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.monitoring.report.uploads import Upload
from modelsteward.store.tables import AuditEvent, ModelVersion

REPORTS = "/api/v1/reports"


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Income shifts by 1.5 standard deviations; the plan mix does not change."""
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 2000), "plan": rng.choice(["a", "b"], 2000)})
    cur = pd.DataFrame({"income": rng.normal(65, 10, 1500), "plan": rng.choice(["a", "b"], 1500)})
    return ref, cur


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


def pair(
    reference: bytes | None = None, current: bytes | None = None, name: str = "window.csv"
) -> dict[str, tuple]:
    """Reference as CSV, current as Parquet, or the given bytes as ``name``."""
    ref, cur = frames()
    files: dict[str, tuple] = {
        "current": ("window.parquet", parquet_bytes(cur)) if current is None else (name, current)
    }
    files["reference"] = ("train.csv", reference if reference is not None else csv_bytes(ref))
    return files


def stored(steward: Steward) -> tuple[int, int, int]:
    """(versions, audit records, blobs): what a report must never change."""
    with steward.db.read() as session:
        versions = session.scalar(select(func.count()).select_from(ModelVersion)) or 0
        audits = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return versions, audits, len(list(steward.artifacts.list_blobs()))


@pytest.fixture(autouse=True)
def own_temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test spools into a temporary folder of its own: parallel test workers share
    the system's, where another worker's report may come and go mid-test."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("steward-report-*")}


def test_two_uploaded_files_give_the_report_as_json(api: httpx.Client, steward: Steward) -> None:
    before, spooled = stored(steward), leftovers()
    response = api.post(REPORTS, files=pair())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["drift"]["drifted_columns"] == ["income"] and report["drift"]["mode"] == "exact"
    assert (report["reference_rows"], report["current_rows"]) == (2000, 1500)
    assert report["sources"] == {"reference": "train.csv", "current": "window.parquet"}
    assert {d["column"] for d in report["distributions"]} == {"income", "plan"}
    assert stored(steward) == before and leftovers() == spooled


def test_the_same_report_as_one_self_contained_page(api: httpx.Client) -> None:
    page = api.post(REPORTS, files=pair(), data={"format": "html"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert html.count("<svg") == 2 and "<script" not in html and "<link" not in html
    by_accept = api.post(REPORTS, files=pair(), headers={"Accept": "text/html"})
    assert by_accept.headers["content-type"].startswith("text/html")
    both = api.post(REPORTS, files=pair(), data={"format": "json+html", "columns": "plan"})
    body = both.json()
    assert [c["column"] for c in body["drift"]["columns"]] == ["plan"]
    assert body["html"].startswith("<!doctype html>") and body["html"].count("<svg") == 1


def test_a_model_version_gives_the_columns_and_its_training_profile_the_reference(
    api: httpx.Client, steward: Steward, server: str
) -> None:
    frame, _ = training_frame(rows=400)
    with Client(server, admin_token_of(steward)) as client:
        client.register(fitted_model(), name="churn", sample=frame, training_data=frame)
    shifted = frame.assign(income=frame.income + 25, extra=1)
    files = {"current": ("window.csv", csv_bytes(shifted))}
    for model in ("churn:1", "churn"):
        response = api.post(REPORTS, files=files, data={"model": model})
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["drift"]["mode"] == "profile" and report["model"] == model
        assert [c["column"] for c in report["drift"]["columns"]] == ["age", "income"]
        assert report["drift"]["drifted_columns"] == ["income"]
        assert report["sources"]["reference"] == f"{model} training-data profile"
    missing = api.post(REPORTS, files=files, data={"model": "ghost:1"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


BAD_UPLOADS = [
    (
        pair(current=b"\x89PNG\r\n\x1a\n\x00\x00", name="a.png"),
        {},
        422,
        "current: expected a CSV",
    ),
    (pair(current=b""), {}, 422, "current: the file is empty"),
    (pair(reference=b"PAR1 not really parquet"), {}, 422, "not a complete Parquet file"),
    (pair(current=b'a,b\n1,2\n"open quote\n'), {}, 422, "cannot read current.csv"),
    (pair(current=b"other,names\n1,2\n"), {}, 422, "no common columns"),
    (pair(), {"columns": "nothing,here"}, 422, "no common columns"),
    ({"reference": pair()["reference"]}, {}, 422, "missing the 'current' file"),
    ({"current": pair()["current"]}, {}, 422, "reference: upload a file"),
    (pair(), {"format": "pdf"}, 422, "format must be one of json, html"),
    (pair(), {"model": "churn:"}, 422, "model must be NAME or NAME:VERSION"),
    (pair(), {"extra": "x"}, 422, "unexpected form part 'extra'"),
]


def test_bad_uploads_get_one_clear_error_and_store_nothing(
    api: httpx.Client, steward: Steward
) -> None:
    before, spooled = stored(steward), leftovers()
    for files, data, status, message in BAD_UPLOADS:
        response = api.post(REPORTS, files=files, data=data)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and message in error["message"], message
        assert "/tmp" not in error["message"] and "steward-report" not in error["message"]
    assert stored(steward) == before and leftovers() == spooled


def test_a_request_that_is_not_multipart_is_a_bad_request(api: httpx.Client) -> None:
    response = api.post(REPORTS, json={"current": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_request")
    broken = api.post(
        REPORTS, content=b"--x\r\nnonsense", headers={"content-type": "multipart/form-data"}
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "bad_request")


def test_hostile_file_names_are_only_ever_shown(api: httpx.Client, tmp_path: Path) -> None:
    ref, cur = frames()
    files = {
        "reference": ("../../../../tmp/evil/<img src=x onerror=alert(1)>.csv", csv_bytes(ref)),
        "current": ("..\\..\\windows\\system32\\bell.parquet", parquet_bytes(cur)),
    }
    response = api.post(REPORTS, files=files, data={"format": "json+html"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sources"] == {
        "reference": "<img src=x onerror=alert(1)>.csv",
        "current": "bell.parquet",
    }
    assert "<img src=x" not in body["html"] and "&lt;img src=x" in body["html"]
    assert not Path("/tmp/evil").exists()
    assert Upload("current", tmp_path, "C:\\data\\a\x07b\nc.csv").shown == "abc.csv"
    assert Upload("current", tmp_path, "../\x00").shown == "current"


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server that accepts at most 4 KiB of upload."""
    small = Steward(settings_for(tmp_path / "small", STEWARD_MAX_UPLOAD_BYTES="4096"))
    ensure_bootstrap_admin(small)
    try:
        with serve_in_thread(small) as url:
            yield url, admin_token_of(small)
    finally:
        small.close()


def test_uploads_over_the_limit_are_refused_with_413_before_being_read(
    small_server: tuple[str, str],
) -> None:
    url, token = small_server
    spooled = leftovers()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
        declared = client.post(REPORTS, files=pair())  # Content-Length says it all
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "payload_too_large"

        def body() -> Iterator[bytes]:  # no Content-Length: refused while streaming
            yield b'--zzz\r\nContent-Disposition: form-data; name="current"; filename="a.csv"\r\n\r\n'
            for _ in range(64):
                yield b"1,2,3\n" * 200_000
            yield b"\r\n--zzz--\r\n"

        streamed = client.post(
            REPORTS, content=body(), headers={"content-type": "multipart/form-data; boundary=zzz"}
        )
        assert streamed.status_code == 413
        assert "STEWARD_MAX_UPLOAD_BYTES" in streamed.json()["error"]["message"]
    assert leftovers() == spooled


def test_reports_need_a_reader(api: httpx.Client, steward: Steward, server: str) -> None:
    anonymous = httpx.post(server + REPORTS, files=pair())
    assert anonymous.status_code == 401
    application = {"Authorization": f"Bearer {token_for(steward, 'application')}"}
    assert api.post(REPORTS, files=pair(), headers=application).status_code == 403
    viewer = {"Authorization": f"Bearer {token_for(steward, 'viewer')}"}
    assert api.post(REPORTS, files=pair(), headers=viewer).status_code == 200


def test_the_route_is_in_the_api_description(api: httpx.Client) -> None:
    described = api.get("/api/v1/openapi.json").json()["paths"][REPORTS]["post"]
    form = described["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(form["properties"]) == {"reference", "current", "model", "columns", "format"}
    assert json.dumps(described["responses"]["200"]["content"]).count("text/html") == 1
