"""Downloading a version's file: one helper answers the API route and the web page route."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import update
from tests.helpers import skops_file

from modelsteward.api.downloads import content_disposition, file_response
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.files import version_file
from modelsteward.registry.models import create_model
from modelsteward.registry.specs import ModelSpec, VersionSpec
from modelsteward.registry.versions import register_version
from modelsteward.store.tables import ModelVersion

HOSTILE = 'notes "quoted" é ü 模型.txt'
ROUTES = {
    "api": "/api/v1/models/churn/versions/1/files/{}",
    "page": "/models/churn/versions/1/files/{}",
}


@pytest.fixture
def churn(steward: Steward, tmp_path: Path) -> Steward:
    """Model ``churn`` v1 with its model file and an extra file with a hostile name."""
    create_model(steward, SYSTEM, ModelSpec(name="churn"))
    model = steward.artifacts.put_file(skops_file(tmp_path))
    notes = steward.artifacts.put_bytes(b"release notes\n")
    spec = VersionSpec.model_validate(
        {
            "flavor": "sklearn",
            "files": [{"role": "model", "name": "model.skops"}, {"role": "extra", "name": HOSTILE}],
        }
    )
    register_version(steward, SYSTEM, "churn", spec, {"model.skops": model, HOSTILE: notes})
    return steward


def _rename_stored_file(steward: Steward, old: str, new: str) -> None:
    """What an older or imported record may hold: a name today's validation refuses."""
    with steward.db.write() as session:
        row = session.query(ModelVersion).one()
        files = [{**f, "name": new} if f["name"] == old else f for f in row.files]
        session.execute(update(ModelVersion).where(ModelVersion.id == row.id).values(files=files))


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_hostile_file_name_is_quoted_safely_and_kept_exactly(
    api: httpx.Client, churn: Steward, route: str
) -> None:
    response = api.get(ROUTES[route].format(HOSTILE))
    assert response.status_code == 200 and response.content == b"release notes\n"
    disposition = response.headers["content-disposition"]
    assert disposition.isascii() and disposition.count('"') == 2
    assert 'filename="notes _quoted_ _ _ __.txt"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == HOSTILE
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_stored_name_with_a_newline_is_refused_cleanly(
    api: httpx.Client, churn: Steward, route: str
) -> None:
    """Starlette's path matching stops at a newline, so such a name is a clear 404."""
    _rename_stored_file(churn, HOSTILE, 'a\r\nSet-Cookie: x=1\n"b".txt')
    response = api.get(ROUTES[route].format("a%0D%0ASet-Cookie: x=1%0A%22b%22.txt"))
    assert response.status_code == 404 and "set-cookie" not in response.headers


def test_a_newline_in_a_stored_name_cannot_split_the_header(churn: Steward) -> None:
    _rename_stored_file(churn, HOSTILE, 'dir/a\r\nSet-Cookie: x=1\n"b".txt')
    found = version_file(churn, "churn", 1, 'dir/a\r\nSet-Cookie: x=1\n"b".txt')
    disposition = file_response(found).headers["content-disposition"]
    assert disposition == (
        'attachment; filename="a__Set-Cookie: x=1__b_.txt"; '
        "filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1%0A%22b%22.txt"
    )


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_bytes_missing_from_the_store_are_a_clear_404_not_a_500(
    api: httpx.Client, churn: Steward, route: str
) -> None:
    sha256 = api.get("/api/v1/models/churn/versions/1").json()["files"][0]["sha256"]
    path = churn.artifacts.local_path(sha256)
    assert path is not None
    path.unlink()
    response = api.get(ROUTES[route].format("model.skops"))
    assert response.status_code == 404
    if route == "api":
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert "missing from the artifact store" in error["message"]
        assert "model.skops" in error["message"]
    else:
        assert "missing from the artifact store" in response.text


def test_the_ascii_fallback_drops_path_parts_quotes_and_backslashes() -> None:
    assert content_disposition('dir/sub/x\\"y.bin') == (
        "attachment; filename=\"x__y.bin\"; filename*=UTF-8''x%5C%22y.bin"
    )
