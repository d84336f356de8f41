"""``tests_pass``: the tests declared with the version pass.

Declared checks are evaluated from what the version recorded: ``metric_min`` and
``metric_max`` against its metrics, ``schema_present`` against its input schema.
``pytest`` tests run the uploaded test file with ``sys.executable -m pytest`` in a
temporary folder holding the version's files (hash-verified), under ``timeout_s``
(default 300), as a separate process group that is killed on time-out.

A pytest file is code from whoever registered the version, so it runs ONLY when the
version carries a granted trust decision (``trust.granted_by``, see
``steward models trust``). For any other version a pytest test is not run: it fails
the check (``on_untrusted: fail``, the default) or, with ``on_untrusted: skip``, is
reported as skipped while the other tests decide. ``require_tests`` (default true)
fails a version that declares no tests at all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsteward.lifecycle.checks.registry import Check, CheckContext, CheckResult
from modelsteward.registry.materialize import materialize
from modelsteward.registry.views import VersionView

OUTPUT_TAIL = 4000


class TestsPassParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: Annotated[int, Field(ge=1, le=3600)] = 300
    on_untrusted: Literal["fail", "skip"] = "fail"
    require_tests: bool = True


def trusted_to_run_code(version: VersionView) -> bool:
    return bool((version.trust or {}).get("granted_by"))


def declared_outcome(test: dict[str, Any], version: VersionView) -> tuple[str, str]:
    """(``passed`` | ``failed``, why) for a test answered by recorded facts."""
    kind, metric, threshold = test["type"], test.get("metric"), test.get("threshold")
    if kind == "schema_present":
        ok = bool(version.input_schema and version.input_schema.get("columns"))
        return ("passed" if ok else "failed", "input schema recorded" if ok else "no input schema")
    value = version.metrics.get(str(metric))
    if not isinstance(value, int | float) or threshold is None:
        return "failed", f"metric {metric!r} is not recorded"
    ok = value >= threshold if kind == "metric_min" else value <= threshold
    sign = ">=" if kind == "metric_min" else "<="
    return ("passed" if ok else "failed"), f"{metric} = {value:g}, wanted {sign} {threshold:g}"


def child_environment() -> dict[str, str]:
    """This process's environment without its own settings (database URLs, tokens) or
    pytest's, so a version's tests see neither the steward's secrets nor this test run."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STEWARD_", "PYTEST_"))
    } | {"PYTHONDONTWRITEBYTECODE": "1"}


def output_tail(log: IO[bytes]) -> str:
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - OUTPUT_TAIL))
    return log.read().decode(errors="replace")


def run_pytest(root: Path, file: str, timeout_s: int) -> tuple[str, str]:
    """Run one test file in its own process group; (outcome, the output's tail).

    Output goes to a temporary file, not memory, so a chatty test cannot exhaust it.
    """
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", "."]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*command, file],
            cwd=root,
            env=child_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return "failed", f"timed out after {timeout_s} s\n{output_tail(log)}"
        return ("passed" if code == 0 else "failed"), output_tail(log)


def run(context: CheckContext, params: TestsPassParams) -> CheckResult:
    version = context.version
    tests: list[dict[str, Any]] = list(version.tests)
    if not tests:
        passed = not params.require_tests
        return CheckResult(passed, "the version declares no tests", {"tests": []})
    outcomes: list[dict[str, Any]] = []
    pytests = [t for t in tests if t["type"] == "pytest"]
    for test in tests:
        if test["type"] != "pytest":
            outcome, why = declared_outcome(test, version)
            outcomes.append({"name": test["name"], "outcome": outcome, "detail": why})
    if pytests and not trusted_to_run_code(version):
        outcome = "skipped" if params.on_untrusted == "skip" else "failed"
        why = "not run: the version has no granted trust decision to run its code"
        outcomes += [{"name": t["name"], "outcome": outcome, "detail": why} for t in pytests]
    elif pytests:
        with tempfile.TemporaryDirectory(prefix="steward-tests-") as tmp:
            root = Path(tmp)
            materialize(context.steward.artifacts, [f.model_dump() for f in version.files], root)
            for test in pytests:
                outcome, output = run_pytest(root, test["file"], params.timeout_s)
                outcomes.append({"name": test["name"], "outcome": outcome, "detail": output})
    failed = [o["name"] for o in outcomes if o["outcome"] == "failed"]
    ran = [o for o in outcomes if o["outcome"] != "skipped"]
    details = {"tests": outcomes}
    if failed:
        return CheckResult(
            False, f"{len(failed)} of {len(tests)} failed: {', '.join(failed)}", details
        )
    if not ran:
        return CheckResult(False, "no test could run (all skipped)", details)
    skipped = len(outcomes) - len(ran)
    note = f", {skipped} skipped" if skipped else ""
    return CheckResult(True, f"{len(ran)} test(s) passed{note}", details)


CHECK = Check(
    name="tests_pass",
    description="The version's declared tests pass (pytest files only for trusted versions).",
    params_model=TestsPassParams,
    run=run,
)
