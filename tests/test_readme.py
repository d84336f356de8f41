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


def test_the_sdk_example_runs_against_a_live_server(
    steward: Steward, server: str, tmp_path: Path
) -> None:
    (snippet,) = _blocks("python")
    env = {**os.environ, "STEWARD_URL": server, "STEWARD_TOKEN": admin_token_of(steward)}
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "iris" / "model.skops").exists()


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
