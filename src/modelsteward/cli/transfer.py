"""Moving models between instances and in from MLflow: export, import, keys, import-mlflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_json, print_table
from modelsteward.errors import NotFound

keys = typer.Typer(help="Signing keys whose bundles this instance imports.", no_args_is_help=True)


def export(
    name: str,
    version: Annotated[str, typer.Argument(help="Number or alias.")],
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Bundle file to write.")],
) -> None:
    """Write one signed bundle file holding a version and its artifacts."""
    with client() as c:
        c.export_bundle(name, version, out)
    console.print(f"wrote {out} ({out.stat().st_size} bytes)")


def import_(
    bundle: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A bundle from 'export'.")
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify a signed bundle and register its version here."""
    with client() as c:
        version = c.import_bundle(bundle)
    if as_json:
        print_json(version)
    else:
        console.print(f"imported {version['model']} version {version['version']}")


def import_mlflow(
    path: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, help="An MLflow model folder (with MLmodel)."),
    ],
    name: Annotated[str, typer.Option(help="Model name in the inventory.")],
    trust: Annotated[str | None, typer.Option(help="Reason, when the model is pickled.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register an MLflow model directory (sklearn and pyfunc flavors) as the next version."""
    from modelsteward.registry.mlflow_import import read_mlflow_model

    imported = read_mlflow_model(path)
    spec = {
        "flavor": imported.flavor,
        "files": [{"role": role, "name": relative} for role, relative, _ in imported.files],
        "input_schema": imported.input_schema,
        "output_schema": imported.output_schema,
        "dependencies": imported.dependencies,
        "metadata": imported.metadata,
        "lineage": {"run": imported.metadata["mlflow"].get("run_id")},
        "trust_reason": trust,
    }
    files = {relative: local for _, relative, local in imported.files}
    with client() as c:
        try:
            c.get_model(name)
        except NotFound:
            c.create_model(name)
        version = c.register_files(name, spec, files)
    if as_json:
        print_json(version)
    else:
        console.print(
            f"imported {path} as {name} version {version['version']} ({version['flavor']})"
        )


@keys.command("show")
def show_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """This instance's public key, and the keys it trusts."""
    with client() as c:
        ring = c._call("GET", "/api/v1/keys")
    if as_json:
        print_json(ring)
        return
    console.print(f"this instance: {ring['instance']}")
    print_table(
        "Trusted keys",
        ["name", "public key", "added by", "added"],
        [
            (k["name"], k["public_key"], k["added_by"], str(k["added_at"])[:19])
            for k in ring["trusted"]
        ],
        empty="no trusted keys of other instances",
    )


@keys.command("trust")
def trust_key(name: str, public_key: Annotated[str, typer.Argument(metavar="KEY")]) -> None:
    """Import bundles signed by KEY (as printed by 'steward keys show' on the other instance)."""
    with client() as c:
        c._call("POST", "/api/v1/keys", json={"name": name, "public_key": public_key})
    console.print(f"trusting bundles signed by {name}")


@keys.command("untrust")
def untrust_key(name: str) -> None:
    with client() as c:
        c._call("DELETE", f"/api/v1/keys/{name}")
    console.print(f"no longer trusting {name}")
