"""The README's examples run: its SDK snippet and its CLI commands' names stay true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import admin_token_of

from modelsteward.cli.main import app
from modelsteward.context import Steward

README = Path(__file__).resolve().parents[1] / "README.md"


DOCS = [README, *sorted((README.parent / "docs").glob("*.md"))]


def _blocks(language: str, pages: list[Path] | None = None) -> list[str]:
    text = "\n".join(page.read_text() for page in (pages or [README]))
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def _run(
    snippet: str, steward: Steward, server: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    return subprocess.run(
        [sys.executable, "-c", snippet],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_sdk_example_runs_against_a_live_server(
    steward: Steward, server: str, tmp_path: Path
) -> None:
    sdk, _ = _blocks("python")
    result = _run(sdk, steward, server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "iris" / "model.skops").exists()


def test_the_v2_example_answers_with_classes_and_their_probabilities(
    steward: Steward, server: str, tmp_path: Path
) -> None:
    sdk, v2 = _blocks("python")
    assert _run(sdk, steward, server, tmp_path).returncode == 0
    result = _run(v2, steward, server, tmp_path)
    assert result.returncode == 0, result.stderr
    classes, probabilities = result.stdout.splitlines()
    assert classes == "[0, 2]"
    found = re.fullmatch(r"\[2, 3\] \[(.*)\]", probabilities)
    assert found, probabilities
    values = [float(v) for v in found.group(1).split(",")]
    assert len(values) == 6 and all(0 <= v <= 1 for v in values)
    assert abs(sum(values[:3]) - 1) < 1e-6 and abs(sum(values[3:]) - 1) < 1e-6


def test_every_cli_command_in_the_docs_exists() -> None:
    import typer.main

    command = typer.main.get_command(app)
    for block in _blocks("console", DOCS):
        for line in block.splitlines():
            words = line.split("#")[0].split()
            if not words or words[0] != "steward":
                continue
            group = command
            for word in words[1:]:
                if word.startswith("-") or not hasattr(group, "commands"):
                    break
                assert word in group.commands, f"README mentions unknown command: {line}"
                group = group.commands[word]


def test_every_setting_is_documented() -> None:
    source = Path(__file__).resolve().parents[1] / "src" / "modelsteward"
    names = set()
    for path in source.rglob("*.py"):
        names |= set(re.findall(r"\"(STEWARD_[A-Z_]+)\"", path.read_text()))
    undocumented = sorted(n for n in names if f"`{n}`" not in README.read_text())
    assert not undocumented, f"settings missing from the README: {undocumented}"
