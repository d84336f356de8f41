"""``steward models ...``: the inventory from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_fields, print_json, print_table
from modelsteward.errors import InvalidInput, NotFound

app = typer.Typer(help="Register, find and manage models and their versions.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _pairs(values: list[str] | None, what: str, numeric: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{what} must look like key=value, got {item[:60]!r}")
        if numeric:
            try:
                result[key] = float(value)
            except ValueError:
                raise InvalidInput(f"{what} {key!r} must be a number, got {value[:30]!r}") from None
        else:
            result[key] = value
    return result


def _read_json(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {what} from {path}: {exc}") from None


@app.command("create")
def create(
    name: str,
    description: str = "",
    owner: str = "",
    team: str = "",
    use_case: Annotated[str, typer.Option("--use-case")] = "",
    risk_tier: Annotated[str, typer.Option("--risk-tier")] = "medium",
    tag: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an inventory entry (``register`` also creates it on first use)."""
    with client() as c:
        model = c.create_model(
            name,
            description=description,
            owner=owner,
            team=team,
            use_case=use_case,
            risk_tier=risk_tier,
            tags=_pairs(tag, "--tag"),
        )
    print_json(model) if as_json else console.print(f"created model [bold]{name}[/bold]")


@app.command("register")
def register(
    name: str,
    file: Annotated[
        Path, typer.Option("--file", "-f", exists=True, dir_okay=False, help="The model file.")
    ],
    flavor: Annotated[str, typer.Option(help="sklearn, onnx, xgboost, lightgbm, python, pickle")],
    source: Annotated[
        list[Path] | None,
        typer.Option(exists=True, dir_okay=False, help="Source file, repeatable."),
    ] = None,
    test: Annotated[
        list[Path] | None,
        typer.Option(exists=True, dir_okay=False, help="pytest file, repeatable."),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(exists=True, help="JSON with more version fields (schemas, lineage...)."),
    ] = None,
    metric: Annotated[list[str] | None, typer.Option(help="name=value, repeatable")] = None,
    param: Annotated[list[str] | None, typer.Option(help="name=value, repeatable")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="key=value, repeatable")] = None,
    description: str = "",
    trust: Annotated[
        str | None, typer.Option(help="Reason for accepting a code-executing format.")
    ] = None,
    owner: str = "",
    risk_tier: Annotated[str, typer.Option("--risk-tier")] = "medium",
    as_json: JsonFlag = False,
) -> None:
    """Upload a saved model file as the next version of NAME."""
    extra = _read_json(spec, "--spec") or {}
    if not isinstance(extra, dict):
        raise InvalidInput("--spec must hold a JSON object")
    files = {file.name: file}
    manifest = [{"role": "model", "name": file.name}]
    for role, paths in (("source", source or []), ("test", test or [])):
        for path in paths:
            files[path.name] = path
            manifest.append({"role": role, "name": path.name})
    body = {
        **extra,
        "flavor": flavor,
        "files": manifest,
        "description": description or extra.get("description", ""),
        "metrics": {**extra.get("metrics", {}), **_pairs(metric, "--metric", numeric=True)},
        "params": {**extra.get("params", {}), **_pairs(param, "--param")},
        "tags": {**extra.get("tags", {}), **_pairs(tag, "--tag")},
    }
    if trust:
        body["trust_reason"] = trust
    with client() as c:
        try:
            c.get_model(name)
        except NotFound:
            c.create_model(name, owner=owner, risk_tier=risk_tier)
        version = c.register_files(name, body, files)
    if as_json:
        print_json(version)
    else:
        console.print(
            f"registered [bold]{name}[/bold] version {version['version']} "
            f"({version['flavor']}, {version['content_hash'][:12]})"
        )


@app.command("list")
def list_models(
    q: Annotated[str | None, typer.Option(help="Text in name or description.")] = None,
    tag: Annotated[str | None, typer.Option(help="key or key=value")] = None,
    owner: str | None = None,
    risk_tier: Annotated[str | None, typer.Option("--risk-tier")] = None,
    alias: str | None = None,
    status: str = "active",
    limit: int = 50,
    offset: int = 0,
    as_json: JsonFlag = False,
) -> None:
    """List the inventory, filtered."""
    with client() as c:
        page = c.list_models(
            q=q,
            tag=tag,
            owner=owner,
            risk_tier=risk_tier,
            alias=alias,
            status=status,
            limit=limit,
            offset=offset,
        )
    if as_json:
        print_json(page)
        return
    rows = [
        (
            m["name"],
            m["owner"],
            m["risk_tier"],
            m["latest_version"],
            ", ".join(f"{a}→v{v}" for a, v in sorted(m["aliases"].items())),
            ", ".join(f"{k}={v}" for k, v in m["tags"].items()),
            m["status"],
        )
        for m in page["items"]
    ]
    shown = f"{offset + 1}-{offset + len(rows)} of {page['total']}" if rows else "none"
    print_table(
        f"Models ({shown})",
        ["name", "owner", "risk", "latest", "aliases", "tags", "status"],
        rows,
        empty="no models match" if page["total"] else "no models registered yet",
    )


@app.command("show")
def show(
    name: str,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Number or alias.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a model and its versions, or one version in full."""
    with client() as c:
        if version is not None:
            detail = c.get_version(name, version)
            if as_json:
                print_json(detail)
                return
            schema = detail.get("input_schema") or {"columns": []}
            print_fields(
                f"{name} v{detail['version']}",
                [
                    ("flavor", detail["flavor"]),
                    ("status", detail["status"]),
                    ("aliases", ", ".join(detail["aliases"])),
                    ("content hash", detail["content_hash"]),
                    ("metrics", detail["metrics"]),
                    ("params", detail["params"]),
                    ("input", ", ".join(f"{c['name']}:{c['type']}" for c in schema["columns"])),
                    ("training data", (detail.get("training_data") or {}).get("uri")),
                    ("lineage", detail["lineage"]),
                    ("trust", detail["trust"]),
                    (
                        "files",
                        ", ".join(
                            f"{f['name']} ({f['role']}, {f['size']} B)" for f in detail["files"]
                        ),
                    ),
                    ("created", f"{detail['created_at']} by {detail['created_by']}"),
                ],
            )
            return
        model = c.get_model(name)
        versions = c.list_versions(name)
    if as_json:
        print_json({**model, "versions": versions})
        return
    print_fields(
        name,
        [
            (k, model[k])
            for k in (
                "description",
                "owner",
                "team",
                "use_case",
                "risk_tier",
                "status",
                "tags",
                "aliases",
            )
        ],
    )
    print_table(
        "Versions",
        ["version", "flavor", "status", "aliases", "metrics", "created by", "created"],
        [
            (
                v["version"],
                v["flavor"],
                v["status"],
                ", ".join(v["aliases"]),
                ", ".join(f"{k}={val:.4g}" for k, val in v["metrics"].items()),
                v["created_by"],
                str(v["created_at"])[:19],
            )
            for v in versions
        ],
    )


@app.command("download")
def download(
    name: str,
    version: Annotated[str, typer.Argument(help="Number or alias.")],
    out: Annotated[Path, typer.Option("--out", "-o", file_okay=False)] = Path("."),
) -> None:
    """Download every file of a version into a folder."""
    with client() as c:
        written = c.download(name, version, out)
    for path in written:
        console.print(str(path))


@app.command("alias")
def alias(
    name: str,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    version: Annotated[int | None, typer.Argument()] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    history: Annotated[
        bool, typer.Option("--history", help="Show every move of the alias.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Point ALIAS (e.g. champion) at VERSION, remove it, or show its history."""
    with client() as c:
        if history:
            moves = c.alias_history(name, alias_name)
            if as_json:
                print_json(moves)
            else:
                print_table(
                    f"{name}: {alias_name}",
                    ["from", "to", "by", "when"],
                    [
                        (m["from_version"], m["to_version"], m["changed_by"], m["changed_at"])
                        for m in moves
                    ],
                )
            return
        if remove:
            c.remove_alias(name, alias_name)
            console.print(f"removed alias {alias_name} from {name}")
            return
        if version is None:
            raise InvalidInput("give the VERSION to point the alias at, or --remove / --history")
        change = c.set_alias(name, alias_name, version)
    previous = change["from_version"]
    console.print(
        f"{name}: {alias_name} → v{version}" + (f" (was v{previous})" if previous else "")
    )


@app.command("archive")
def archive(
    name: str,
    version: Annotated[int | None, typer.Option("--version", "-v")] = None,
    restore: Annotated[bool, typer.Option("--restore", help="Bring it back instead.")] = False,
) -> None:
    """Archive a model or one version (nothing is ever deleted)."""
    with client() as c:
        (c.restore if restore else c.archive)(name, version)
    what = f"{name} v{version}" if version else name
    console.print(f"{'restored' if restore else 'archived'} {what}")


@app.command("trust")
def trust(
    name: str,
    version: int,
    reason: Annotated[str, typer.Option(help="Why this code-executing artifact may be loaded.")],
) -> None:
    """Grant the explicit trust decision a pickle or Python-class version needs to load."""
    with client() as c:
        c.grant_trust(name, version, reason)
    console.print(f"trusted {name} v{version}")


@app.command("transfer-ownership")
def transfer_ownership(
    name: str,
    to: Annotated[str | None, typer.Option("--to", help="The user who will own the model.")] = None,
    no_owner: Annotated[
        bool, typer.Option("--no-owner", help="Leave the model without an owner.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why the model changes hands (audited).")] = "",
) -> None:
    """Hand a model to another owner (needs models.transfer_ownership; audited)."""
    if (to is None) == (not no_owner):
        raise InvalidInput("give --to USER or --no-owner (exactly one)")
    if not reason.strip():
        raise InvalidInput("give --reason: a transfer of ownership is audited with its reason")
    with client() as c:
        model = c.transfer_ownership(name, to, reason)
    console.print(f"{name} is now owned by {model['owner'] or 'nobody'}")
