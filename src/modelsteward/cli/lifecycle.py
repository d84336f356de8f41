"""``steward lifecycles`` and ``steward lifecycle``: definitions, and where a version stands.

Definitions (list, show, apply, validate), a version's status and moving it; the
approver's inbox is ``steward tasks`` (``cli/tasks.py``). Reads take ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelsteward.cli.connection import client
from modelsteward.cli.output import console, print_fields, print_json, print_table
from modelsteward.errors import Conflict, InvalidInput
from modelsteward.sdk.client import Client

lifecycles = typer.Typer(
    help="Life cycle definitions: list, show, apply, validate; assignment rules.",
    no_args_is_help=True,
)
lifecycle = typer.Typer(help="A version's life cycle: status, move.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Target = Annotated[
    str, typer.Argument(metavar="MODEL:VERSION", help="e.g. churn:3 or churn:champion")
]
MAX_FILE_BYTES = 256 * 1024


class TransitionBlocked(Conflict):
    """A transition a check blocked: the CLI exits non-zero (a wait for approvals does not)."""


def _read_definition(path: Path) -> tuple[bytes, str]:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB")
    kind = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
    return path.read_bytes(), kind


@lifecycles.command("list")
def list_definitions(as_json: JsonFlag = False) -> None:
    """Every life cycle, with its newest version and states."""
    with client() as c:
        rows = c._call("GET", "/api/v1/lifecycles")
    if as_json:
        print_json(rows)
        return
    print_table(
        "Life cycles",
        ["name", "version", "states", "by", "description"],
        [
            (d["name"], d["version"], ", ".join(d["states"]), d["created_by"], d["description"])
            for d in rows
        ],
        empty="no life cycles defined",
    )


@lifecycles.command("show")
def show_definition(
    name: str,
    version: Annotated[int | None, typer.Option(help="A stored version (default: newest).")] = None,
    source: Annotated[bool, typer.Option("--source", help="Print the text as saved.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """One life cycle: states, transitions and their gates."""
    with client() as c:
        view = c._call(
            "GET", f"/api/v1/lifecycles/{name}", params={"version": version} if version else {}
        )
    if as_json:
        print_json(view)
        return
    if source:
        console.print(view["source"], markup=False, highlight=False, end="")
        return
    spec = view["spec"]
    versions = ", ".join(str(v["version"]) for v in view["versions"])
    print_fields(
        f"{view['name']} v{view['version']}",
        [
            ("description", view["description"]),
            ("initial", spec["initial"]),
            ("versions", versions),
        ],
    )
    print_table(
        "States",
        ["state", "production", "terminal", "on enter", "timers"],
        [
            (
                s["name"],
                "yes" if s.get("production") else "",
                "yes" if s.get("terminal") else "",
                ", ".join(a["action"] for a in s.get("on_enter", [])),
                ", ".join(f"{t['after']} → {t['transition']}" for t in s.get("timers", [])),
            )
            for s in spec["states"]
        ],
    )
    print_table(
        "Transitions",
        ["transition", "from", "to", "trigger", "gates"],
        [
            (t["name"], ", ".join(t["from"]), t["to"], t["trigger"], _gates(t.get("gates", [])))
            for t in spec["transitions"]
        ],
    )


def _gates(gates: list[dict[str, Any]]) -> str:
    shown = []
    for gate in gates:
        if "check" in gate:
            shown.append(f"check {gate['check']}")
        else:
            approval = gate["approval"]
            shown.append(f"{approval.get('count', 1)}× {approval['role']}")
    return ", ".join(shown)


@lifecycles.command("apply")
def apply(file: Path, as_json: JsonFlag = False) -> None:
    """Store FILE (YAML or .json) as the next version of its life cycle, if it changed."""
    body, kind = _read_definition(file)
    with client() as c:
        saved = c._call("POST", "/api/v1/lifecycles", content=body, headers={"content-type": kind})
    if as_json:
        print_json(saved)
        return
    definition = saved["definition"]
    if saved["created"]:
        console.print(f"saved life cycle {definition['name']} version {definition['version']}")
    else:
        console.print(
            f"life cycle {definition['name']} unchanged (version {definition['version']})"
        )


@lifecycles.command("validate")
def validate(file: Path, as_json: JsonFlag = False) -> None:
    """Check FILE without saving it; each problem is printed with its line."""
    body, kind = _read_definition(file)
    with client() as c:
        report = c._call(
            "POST", "/api/v1/lifecycles/validate", content=body, headers={"content-type": kind}
        )
    if as_json:
        print_json(report)
    elif report["valid"]:
        console.print(f"{file}: valid (life cycle {report['name']})", highlight=False)
    else:
        for problem in report["errors"]:
            line = f":{problem['line']}" if problem["line"] is not None else ""
            path = f" {problem['path']}:" if problem.get("path") else ""
            console.print(f"{file}{line}:{path} {problem['message']}", markup=False)
    if not report["valid"]:
        raise typer.Exit(InvalidInput.exit_code)


@lifecycles.command("rules")
def rules(
    set_from: Annotated[
        Path | None,
        typer.Option(
            "--set",
            metavar="FILE",
            help="Replace all rules with FILE's list (YAML or .json) of "
            "{priority, definition, risk_tier?, team?, tag?: key=value}.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Which life cycle each model's new versions follow: the assignment rules by priority."""
    with client() as c:
        if set_from is None:
            found = c._call("GET", "/api/v1/lifecycle-rules")
        else:
            found = c._call("PUT", "/api/v1/lifecycle-rules", json=_read_rules(set_from))
    if as_json:
        print_json(found)
        return
    print_table(
        "Assignment rules (the first match wins)",
        ["priority", "life cycle", "risk tier", "team", "tag", "by"],
        [
            (
                r["priority"],
                r["definition"],
                r.get("risk_tier") or "any",
                r.get("team") or "any",
                r.get("tag") or "any",
                r.get("created_by", ""),
            )
            for r in found
        ],
        empty="no assignment rules: every model follows no life cycle",
    )


def _read_rules(path: Path) -> list[Any]:
    import yaml

    body, _ = _read_definition(path)
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not YAML or JSON: {str(exc).splitlines()[0]}") from None
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        data = data["rules"]
    if not isinstance(data, list):
        raise InvalidInput(f"{path}: write a list of rules (or a 'rules:' key holding one)")
    return data


def _target(c: Client, target: str) -> tuple[str, int]:
    model, sep, ref = target.partition(":")
    if not sep or not model or not ref:
        raise InvalidInput("give the version as MODEL:VERSION, e.g. churn:3 or churn:champion")
    if ref.isdecimal():
        return model, int(ref)
    return model, int(c._call("GET", f"/api/v1/models/{model}/versions/{ref}")["version"])


def _print_instance(view: dict[str, Any]) -> None:
    print_fields(
        f"{view['model']} v{view['version']}",
        [
            ("life cycle", f"{view['definition']} v{view['definition_version']}"),
            ("state", view["state"] + (" (production)" if view["production"] else "")),
            ("status", view["status"]),
            ("revision", view["revision"]),
        ],
    )
    print_table(
        "History",
        ["at", "outcome", "transition", "from", "to", "by", "reason"],
        [
            (
                h["at"][:19],
                h["outcome"],
                h["transition"],
                h["from_state"],
                h["to_state"],
                h["actor"],
                h["reason"],
            )
            for h in view["history"]
        ],
    )
    if view["available_transitions"]:
        print_table(
            "Next",
            ["transition", "to", "trigger", "gates", "waiting"],
            [
                (
                    t["name"],
                    t["to"],
                    t["trigger"],
                    ", ".join(t["gates"]),
                    "yes" if t["waiting"] else "",
                )
                for t in view["available_transitions"]
            ],
        )


@lifecycle.command("status")
def status(target: Target, as_json: JsonFlag = False) -> None:
    """Where the version stands, its history, what may come next and what it waits for."""
    with client() as c:
        model, version = _target(c, target)
        view = c._call("GET", f"/api/v1/models/{model}/versions/{version}/lifecycle")
    if as_json:
        print_json(view)
        return
    _print_instance(view)


@lifecycle.command("move")
def move(
    target: Target,
    transition: str,
    reason: Annotated[str, typer.Option(help="Why; kept in the history.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Ask for TRANSITION: applied, waiting for approvals, or blocked by a check (exit 5)."""
    with client() as c:
        model, version = _target(c, target)
        path = f"/api/v1/models/{model}/versions/{version}/lifecycle"
        revision = c._call("GET", path)["revision"]
        body = {"transition": transition, "expected_revision": revision, "reason": reason}
        outcome = c._call("POST", f"{path}/transitions", json=body)
    if as_json:
        print_json(outcome)
    else:
        state = outcome["instance"]["state"]
        console.print(f"{model} v{version}: {transition} {outcome['outcome']} (state {state})")
        for gate in outcome["gates"]:
            mark = "[green]✓[/green]" if gate["passed"] else "[red]✗[/red]"
            console.print(f"  {mark} {gate['kind']} {gate['summary']}", highlight=False)
    if outcome["outcome"] == "blocked":
        failed = [g["summary"] for g in outcome["gates"] if not g["passed"]]
        raise TransitionBlocked(
            f"{transition} of {model} v{version} is blocked: {'; '.join(failed) or 'a gate failed'}"
        )
