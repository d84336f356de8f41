"""Data and code references name storage elsewhere, never a path on this server's disks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.helpers import sklearn_spec, skops_file, upload, version_form

from modelsteward.registry.specs import check_uri

LOCAL = [
    r"\\fileserver\share\train.csv",
    r"\\?\C:\data\train.csv",
    "%5C%5Cfileserver%5Cshare%5Ctrain.csv",
    r"C:\data\train.csv",
    "c:/data/train.csv",
    "//fileserver/share/train.csv",
    " /etc/shadow",
]


@pytest.mark.parametrize("uri", LOCAL)
def test_windows_shares_and_drive_paths_are_refused_like_absolute_paths(uri: str) -> None:
    with pytest.raises(ValueError, match="local file paths are not accepted"):
        check_uri(uri)


@pytest.mark.parametrize("uri", ["dbfs:/mnt/features/train.parquet", "s3://bucket/train.csv"])
def test_remote_storage_uris_are_accepted(uri: str) -> None:
    assert check_uri(uri) == uri


def test_a_unc_training_data_uri_is_refused_over_http(api: httpx.Client, tmp_path: Path) -> None:
    api.post("/api/v1/models", json={"name": "churn"})
    spec = sklearn_spec(training_data={"uri": r"\\fileserver\share\train.csv"})
    response = api.post(
        "/api/v1/models/churn/versions",
        data=version_form(spec),
        files=[upload(skops_file(tmp_path))],
    )
    assert response.status_code == 422, response.text
    assert "local file paths are not accepted" in response.json()["error"]["message"]
    assert api.get("/api/v1/models/churn/versions").json() == []
