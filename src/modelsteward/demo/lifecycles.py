"""The demo's people and the life cycles its models walk through, decided by different people.

Six demo users (a data scientist, an operator, three risk managers and an architect)
get random passwords written to ``$STEWARD_HOME/demo-users.txt`` (mode 0600), never
fixed ones. Critical models follow ``regulated``, everything else ``standard``; the
seed then moves versions through their life cycles with each decision taken by the
person whose role it is, so the inbox, the timelines and the audit trail have content.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from modelsteward.context import Steward
from modelsteward.errors import Conflict
from modelsteward.identity.users import SYSTEM, Principal, create_user, write_secret_file
from modelsteward.lifecycle.approvals import decide
from modelsteward.lifecycle.reading import version_lifecycle
from modelsteward.lifecycle.rules import put_rules
from modelsteward.lifecycle.transitions import transition
from modelsteward.lifecycle.views import RuleSpec

Progress = Callable[[str], None]

PEOPLE = {
    "dana": "data-scientist",
    "omar": "operator",
    "rita": "risk-manager",
    "raj": "risk-manager",
    "rosa": "risk-manager",
    "ari": "architect",
}
USERS_FILE = "demo-users.txt"


def seed_people(steward: Steward, say: Progress) -> dict[str, Principal]:
    """The demo users; passwords are new each time a user is created, written to a 0600 file."""
    lines: list[str] = []
    for name, role in PEOPLE.items():
        password = secrets.token_urlsafe(12)
        try:
            create_user(steward, SYSTEM, name, role, password)
        except Conflict:
            continue
        lines.append(f"{name}\t{role}\t{password}")
    path = steward.settings.home / USERS_FILE
    if lines:
        kept = path.read_text().splitlines() if path.exists() else []
        write_secret_file(path, "\n".join([*kept, *lines]))
        say(f"  demo users and their passwords: {path}")
    return {name: Principal(name, role) for name, role in PEOPLE.items()}


def assign_lifecycles(steward: Steward) -> None:
    """Critical models follow ``regulated``; every other model ``standard``."""
    put_rules(
        steward,
        Principal("ari", "architect"),
        [
            RuleSpec(priority=10, definition="regulated", risk_tier="critical"),
            RuleSpec(priority=1_000_000, definition="standard"),
        ],
    )


def move(
    steward: Steward, model: str, version: int, name: str, who: Principal, reason: str = ""
) -> str:
    """Ask for one transition with the revision just read; returns its outcome."""
    instance = version_lifecycle(steward, model, version)
    outcome = transition(steward, instance.id, name, who, instance.revision, reason=reason)
    return outcome.outcome


def approve_all(
    steward: Steward, model: str, version: int, people: list[Principal], comment: str
) -> None:
    """Each person approves every open task of the version their role decides."""
    for person in people:
        for task in version_lifecycle(steward, model, version).open_tasks:
            if task.deciding_role == person.role:
                decide(steward, task.id, person, "approve", comment)


def walk_regulated(
    steward: Steward, people: dict[str, Principal], model: str, say: Progress
) -> None:
    """v1 all the way into production through independent validation and two approvals;
    v2 validated and waiting for its second approval, so the inbox has work in it."""
    dana, omar = people["dana"], people["omar"]
    rita, raj, rosa = people["rita"], people["raj"], people["rosa"]
    move(steward, model, 1, "submit", dana, "Documentation and tests are in place.")
    move(steward, model, 1, "validate", rita)
    approve_all(steward, model, 1, [rita], "Independent validation: back-test and fairness OK.")
    move(steward, model, 1, "approve", dana)
    approve_all(steward, model, 1, [raj, rosa], "Approved for production.")
    move(steward, model, 1, "deploy", omar, "Release window 2026-11.")
    say(f"  {model} v1: regulated -> production (validated by rita, approved by raj and rosa)")
    move(steward, model, 2, "submit", dana, "Retrained candidate.")
    move(steward, model, 2, "validate", rita)
    approve_all(steward, model, 2, [rita], "Validation passed.")
    move(steward, model, 2, "approve", dana)
    approve_all(steward, model, 2, [raj], "First approval.")
    say(f"  {model} v2: regulated, validated, waiting for a second approval (see /tasks)")


def approve_standard(
    steward: Steward, people: dict[str, Principal], model: str, version: int
) -> None:
    """A version validated (tests, documentation) and approved by a risk manager."""
    dana, rita = people["dana"], people["rita"]
    move(steward, model, version, "validate", dana)
    move(steward, model, version, "approve", dana)
    approve_all(steward, model, version, [rita], "Fine for production.")


def walk_standard(
    steward: Steward, people: dict[str, Principal], model: str, say: Progress
) -> None:
    """v1 validated, approved by a risk manager, deployed and monitored."""
    omar = people["omar"]
    approve_standard(steward, people, model, 1)
    move(steward, model, 1, "deploy", omar)
    move(steward, model, 1, "monitor", omar, "Rollout applied; monitors attached.")
    say(f"  {model} v1: standard -> monitored (approved by rita, deployed by omar)")
