"""The ``steward`` command: tables for people, --json for scripts, one line and an exit code on error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import admin_token_of, people, skops_file

from modelsteward.context import Steward


def steward_cli(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelsteward", *args],
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_register_list_show_alias_download(
    env: dict[str, str], steward: Steward, tmp_path: Path
) -> None:
    people(steward, "ana")
    model = skops_file(tmp_path / "m")
    out = steward_cli(
        "models",
        "register",
        "churn",
        "--file",
        str(model),
        "--flavor",
        "sklearn",
        "--metric",
        "auc=0.91",
        "--param",
        "C=1",
        "--tag",
        "team=growth",
        "--owner",
        "ana",
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "registered churn version 1" in out.stdout
    listed = json.loads(steward_cli("models", "list", "--json", env=env).stdout)
    assert [m["name"] for m in listed["items"]] == ["churn"] and listed["items"][0][
        "owner"
    ] == "ana"
    table = steward_cli("models", "list", env=env).stdout
    assert "churn" in table and "ana" in table
    assert steward_cli("models", "alias", "churn", "champion", "1", env=env).returncode == 0
    shown = json.loads(
        steward_cli("models", "show", "churn", "--version", "champion", "--json", env=env).stdout
    )
    assert shown["metrics"] == {"auc": 0.91} and shown["aliases"] == ["champion"]
    assert "auc" in steward_cli("models", "show", "churn", env=env).stdout
    target = tmp_path / "download"
    assert (
        steward_cli(
            "models", "download", "churn", "champion", "--out", str(target), env=env
        ).returncode
        == 0
    )
    assert (target / "model.skops").read_bytes() == model.read_bytes()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("models", "show", "ghost"), 4, "model 'ghost' not found"),
        (("models", "create", "../evil"), 2, "invalid model name"),
        (("models", "alias", "ghost", "champion", "1"), 4, "not found"),
        (("models", "register", "x", "--file", "/etc/hostname", "--flavor", "sklearn"), 2, ""),
        (("models", "list", "--risk-tier", "extreme"), 2, "risk_tier"),
    ],
)
def test_errors_are_one_line_and_a_nonzero_exit(
    env: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    out = steward_cli(*args, env=env)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert out.stderr.startswith("error:") and message in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_wrong_token_is_refused(env: dict[str, str]) -> None:
    out = steward_cli("models", "list", env={**env, "STEWARD_TOKEN": "stw_wrong"})
    assert out.returncode == 3 and "invalid or revoked token" in out.stderr


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(not _port_free(8080), reason="a server already answers on :8080")
def test_without_a_server_the_cli_runs_the_embedded_one(tmp_path: Path) -> None:
    env = {"STEWARD_HOME": str(tmp_path / "home"), "STEWARD_URL": "", "STEWARD_TOKEN": ""}
    env_clean = {k: v for k, v in env.items() if v}
    for key in ("STEWARD_URL", "STEWARD_TOKEN"):
        os.environ.pop(key, None)
    assert (
        steward_cli("models", "create", "local", "--owner", "admin", env=env_clean).returncode == 0
    )
    assert (tmp_path / "home" / "admin.token").stat().st_mode & 0o777 == 0o600
    listed = json.loads(steward_cli("models", "list", "--json", env=env_clean).stdout)
    assert listed["total"] == 1


def test_export_to_a_second_instance_that_trusts_the_first(
    env: dict[str, str], tmp_path: Path
) -> None:
    from tests.helpers import settings_for

    from modelsteward.api.server import serve_in_thread
    from modelsteward.identity.users import ensure_bootstrap_admin

    model = skops_file(tmp_path / "m")
    steward_cli("models", "register", "churn", "--file", str(model), "--flavor", "sklearn", env=env)
    bundle = tmp_path / "churn.bundle"
    assert (
        steward_cli("models", "export", "churn", "1", "--out", str(bundle), env=env).returncode == 0
    )
    source_key = json.loads(steward_cli("keys", "show", "--json", env=env).stdout)["instance"]

    prod = Steward(settings_for(tmp_path / "prod"))
    ensure_bootstrap_admin(prod)
    with serve_in_thread(prod) as url:
        prod_env = {"STEWARD_URL": url, "STEWARD_TOKEN": admin_token_of(prod)}
        refused = steward_cli("models", "import", str(bundle), env=prod_env)
        assert refused.returncode == 6 and "untrusted" in refused.stderr
        assert steward_cli("keys", "trust", "dev", source_key, env=prod_env).returncode == 0
        imported = steward_cli("models", "import", str(bundle), "--json", env=prod_env)
        assert imported.returncode == 0, imported.stderr
        assert json.loads(imported.stdout)["files"][0]["size"] == model.stat().st_size
    prod.close()


def test_fsck_reports_a_corrupted_artifact(
    steward: Steward, env: dict[str, str], tmp_path: Path
) -> None:
    model = skops_file(tmp_path / "m")
    steward_cli("models", "register", "churn", "--file", str(model), "--flavor", "sklearn", env=env)
    home = {"STEWARD_HOME": str(steward.settings.home)}
    clean = steward_cli("fsck", env=home)
    assert clean.returncode == 0 and "store intact" in clean.stdout
    (blob,) = list(steward.settings.home.glob("artifacts/blobs/*/*/*"))
    blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
    damaged = steward_cli("fsck", "--json", env=home)
    assert damaged.returncode == 6
    assert json.loads(damaged.stdout)["corrupt"][0]["model"] == "churn"


def test_import_mlflow_registers_the_model_folder(env: dict[str, str], tmp_path: Path) -> None:
    from tests.registry.test_mlflow_import import skops_dir

    folder = skops_dir(tmp_path / "mlflow-model")
    out = steward_cli("import-mlflow", str(folder), "--name", "from-mlflow", "--json", env=env)
    assert out.returncode == 0, out.stderr
    version = json.loads(out.stdout)
    assert version["flavor"] == "sklearn" and version["input_schema"]["columns"]
    assert version["metadata"]["mlflow"]["run_id"]
    refused = steward_cli("import-mlflow", str(tmp_path), "--name", "nothing", env=env)
    assert refused.returncode == 2 and "MLmodel" in refused.stderr


def test_the_cli_starts_without_the_data_libraries() -> None:
    """Every command pays for what ``steward`` imports at start: pandas and pyarrow load
    only in the commands that use them."""
    probe = (
        "import sys, modelsteward.cli.main; print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
