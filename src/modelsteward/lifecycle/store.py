"""Versioned life cycle definitions, and the predefined library installed at start.

Saving a definition parses and validates it, then stores a new version only when the
spec differs from the newest one, so applying the same file twice changes nothing.
Running instances keep the version they started with (they point at its row).
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelsteward.audit.chain import canonical_json
from modelsteward.context import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.identity.users import SYSTEM, Principal
from modelsteward.lifecycle.definitions import parse_definition, validate_definition
from modelsteward.lifecycle.library import library_text, load_library
from modelsteward.lifecycle.spec import LifecycleSpec
from modelsteward.lifecycle.tables import LifecycleDefinition, LifecycleRule
from modelsteward.lifecycle.views import (
    DefinitionSummary,
    DefinitionVersionView,
    DefinitionView,
    SavedDefinition,
    ValidationProblem,
    ValidationReport,
)
from modelsteward.store.tables import as_utc

log = logging.getLogger(__name__)
FORMATS = ("yaml", "json")
MAX_SOURCE_CHARS = 256 * 1024
DEFAULT_LIFECYCLE = "standard"
DEFAULT_RULE_PRIORITY = 1_000_000
PARSED_SPECS = 256


def spec_hash(spec: LifecycleSpec) -> str:
    return hashlib.sha256(canonical_json(spec.as_document()).encode()).hexdigest()


def load_spec(document: dict[str, Any]) -> LifecycleSpec:
    """A stored spec back as the frozen model (it was validated when it was saved).

    Every snapshot and every instance start needs the spec, and validating it again
    costs far more than reading it. Stored definitions never change, so parsed specs
    are kept by their content (not their row id: a process may hold several databases).
    """
    return _parsed(canonical_json(document))


@lru_cache(maxsize=PARSED_SPECS)
def _parsed(text: str) -> LifecycleSpec:
    return LifecycleSpec.model_validate(json.loads(text))


def parse_checked(text: str, fmt: str) -> LifecycleSpec:
    """Parse and validate a definition; ``InvalidInput`` names the lines at fault."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown definition format {fmt[:16]!r}; use yaml or json")
    if len(text) > MAX_SOURCE_CHARS:
        raise InvalidInput(f"a definition is at most {MAX_SOURCE_CHARS // 1024} KiB")
    return parse_definition(text, fmt="json" if fmt == "json" else "yaml")


def check_text(text: str, fmt: str) -> ValidationReport:
    """Validate without saving: every problem with its line, for editors and CI."""
    try:
        spec = parse_checked(text, fmt)
    except InvalidInput as exc:
        raw = exc.details.get("errors") or [
            {"line": exc.details.get("line"), "message": exc.message}
        ]
        problems = [
            ValidationProblem(
                line=p.get("line"),
                path=str(p.get("path") or ""),
                message=str(p.get("message", exc.message)),
            )
            for p in raw
            if isinstance(p, dict)
        ]
        return ValidationReport(valid=False, errors=problems)
    return ValidationReport(valid=True, name=spec.name)


def _latest(session: Session, name: str) -> LifecycleDefinition | None:
    return session.scalar(
        select(LifecycleDefinition)
        .where(LifecycleDefinition.name == name)
        .order_by(LifecycleDefinition.version.desc())
        .limit(1)
    )


def _store(
    session: Session, spec: LifecycleSpec, source: str, fmt: str, actor: str
) -> tuple[LifecycleDefinition, bool]:
    """Insert the next version of ``spec.name`` unless the newest one is the same spec."""
    digest = spec_hash(spec)
    latest = _latest(session, spec.name)
    if latest is not None and latest.spec_hash == digest:
        return latest, False
    row = LifecycleDefinition(
        name=spec.name,
        version=(latest.version + 1) if latest else 1,
        spec=spec.as_document(),
        spec_hash=digest,
        source=source,
        format=fmt,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row, True


def save_definition(steward: Steward, text: str, fmt: str, actor: Principal) -> SavedDefinition:
    """Store ``text`` as the next version of its life cycle (nothing when unchanged)."""
    spec = parse_checked(text, fmt)
    try:
        with steward.change(actor.name) as change:
            row, created = _store(change.session, spec, text, fmt, actor.name)
            if created:
                change.record(
                    "lifecycle.defined",
                    "lifecycle_definition",
                    spec.name,
                    after={"name": spec.name, "version": row.version, "spec_hash": row.spec_hash},
                )
    except IntegrityError:
        raise Conflict(
            f"life cycle {spec.name!r} was saved at the same moment; try again"
        ) from None
    return SavedDefinition(
        created=created, definition=get_definition(steward, spec.name, row.version)
    )


def _versions(session: Session, name: str) -> list[DefinitionVersionView]:
    rows = session.execute(
        select(
            LifecycleDefinition.version,
            LifecycleDefinition.created_by,
            LifecycleDefinition.created_at,
        )
        .where(LifecycleDefinition.name == name)
        .order_by(LifecycleDefinition.version)
    )
    return [
        DefinitionVersionView(version=v, created_by=by, created_at=as_utc(at)) for v, by, at in rows
    ]


def definition_view(session: Session, row: LifecycleDefinition) -> DefinitionView:
    return DefinitionView(
        name=row.name,
        version=row.version,
        description=str(row.spec.get("description", "")),
        spec=row.spec,
        source=row.source,
        format=row.format,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        versions=_versions(session, row.name),
    )


def get_definition(steward: Steward, name: str, version: int | None = None) -> DefinitionView:
    with steward.db.read() as session:
        if version is None:
            row = _latest(session, name)
        else:
            row = session.scalar(
                select(LifecycleDefinition).where(
                    LifecycleDefinition.name == name, LifecycleDefinition.version == version
                )
            )
        if row is None:
            which = f"life cycle {name[:64]!r}" + (f" version {version}" if version else "")
            raise NotFound(f"{which} not found")
        return definition_view(session, row)


def list_definitions(steward: Steward) -> list[DefinitionSummary]:
    """Every life cycle by name, with its newest version."""
    with steward.db.read() as session:
        newest = (
            select(LifecycleDefinition.name, func.max(LifecycleDefinition.version).label("top"))
            .group_by(LifecycleDefinition.name)
            .subquery()
        )
        rows = session.scalars(
            select(LifecycleDefinition)
            .join(
                newest,
                (newest.c.name == LifecycleDefinition.name)
                & (newest.c.top == LifecycleDefinition.version),
            )
            .order_by(LifecycleDefinition.name)
        ).all()
        return [
            DefinitionSummary(
                name=row.name,
                version=row.version,
                description=str(row.spec.get("description", "")),
                states=[str(s["name"]) for s in row.spec.get("states", [])],
                created_by=row.created_by,
                created_at=as_utc(row.created_at),
                versions=row.version,
            )
            for row in rows
        ]


def ensure_library(steward: Steward) -> list[str]:
    """Install or update the predefined life cycles; returns the names stored anew.

    A predefined life cycle is (re)installed when it is missing, or when its newest
    version was installed by the system and the shipped spec has changed since; a
    version someone saved by hand is never replaced. The first install also adds the
    default assignment rule (everything follows ``standard``). Safe to call from many
    processes at once: a concurrent install of the same version is skipped.
    """
    installed: list[str] = []
    with steward.db.read() as session:
        newest = {name: _latest(session, name) for name in load_library()}
        settled = {
            name
            for name, row in newest.items()
            if row is not None
            and (row.created_by != SYSTEM.name or row.spec_hash == spec_hash(load_library()[name]))
        }
    for name, spec in sorted(load_library().items()):
        if name in settled:
            continue
        try:
            with steward.change(SYSTEM.name) as change:
                latest = _latest(change.session, name)
                if latest is not None and latest.created_by != SYSTEM.name:
                    continue
                validate_definition(spec)
                source = library_text(name)
                row, created = _store(change.session, spec, source, "yaml", SYSTEM.name)
                if not created:
                    continue
                change.record(
                    "lifecycle.defined",
                    "lifecycle_definition",
                    name,
                    after={"name": name, "version": row.version, "library": True},
                )
                if name == DEFAULT_LIFECYCLE and latest is None:
                    _add_default_rule(change.session)
            installed.append(name)
        except IntegrityError as exc:
            log.info("life cycle %s not installed by this process: %s", name, exc)
    return installed


def _add_default_rule(session: Session) -> None:
    if session.scalar(select(func.count()).select_from(LifecycleRule)):
        return
    session.add(
        LifecycleRule(
            priority=DEFAULT_RULE_PRIORITY, definition=DEFAULT_LIFECYCLE, created_by=SYSTEM.name
        )
    )
