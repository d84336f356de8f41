"""The serving runtime of one process: loaded versions and the routes that use them.

A background thread follows the database: it runs pending rollouts (claimed with a
compare-and-set, so exactly one worker runs each) and, every ``poll_interval_s``,
loads what newly applied revisions need and then swaps the routes in one step. The
previous routes keep serving until the new ones are loaded, and model files are
loaded on this thread, never inside a request handler.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from modelsteward.context import Steward
from modelsteward.errors import NotFound, Unavailable
from modelsteward.registry.loading import load_model
from modelsteward.registry.versions import get_version
from modelsteward.serving import deployments
from modelsteward.serving.plan import Route

log = logging.getLogger(__name__)
RETRY_FAILED_LOAD_S = 30.0


@dataclass(frozen=True)
class LoadedVersion:
    model: str
    version: int
    predictor: Any
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    training_data: dict[str, Any] | None
    flavor: str


@dataclass(frozen=True)
class LiveDeployment:
    name: str
    model: str
    revision: int
    routes: list[Route]
    versions: dict[int, LoadedVersion] = field(default_factory=dict)


class ModelCache:
    """Loaded versions shared by every deployment of this process."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int], LoadedVersion] = {}
        self._lock = threading.Lock()

    def get(self, steward: Steward, model: str, version: int) -> LoadedVersion:
        key = (model, version)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        view = get_version(steward, model, version)
        loaded = LoadedVersion(
            model=model,
            version=version,
            predictor=load_model(steward, model, version),
            input_schema=view.input_schema,
            output_schema=view.output_schema,
            training_data=view.training_data,
            flavor=view.flavor,
        )
        with self._lock:
            return self._loaded.setdefault(key, loaded)

    def retain_only(self, keep: set[tuple[str, int]]) -> None:
        """Unload versions no deployment routes to any more."""
        with self._lock:
            for key in [k for k in self._loaded if k not in keep]:
                del self._loaded[key]

    def __len__(self) -> int:
        return len(self._loaded)


class ServingRuntime:
    def __init__(self, steward: Steward, *, poll_interval_s: float = 0.5) -> None:
        self.steward = steward
        self.poll_interval_s = poll_interval_s
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.cache = ModelCache()
        self._live: dict[str, LiveDeployment] = {}
        self._failed: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._sync_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="steward-serving", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look at the database now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception:  # the loop must survive a bad revision or a database blip
                log.exception("serving sync failed")
            self._wake.wait(self.poll_interval_s)
            self._wake.clear()

    # -- following the database --------------------------------------------------
    def sync(self) -> None:
        """Run pending rollouts, then bring local routes up to the applied revisions."""
        from modelsteward.serving.rollout import run_rollout

        with self._sync_lock:
            while (claimed := deployments.claim_next(self.steward, self.worker)) is not None:
                name, model, revision = claimed
                run_rollout(self, name, model, revision)
            self._refresh()

    def _refresh(self) -> None:
        served = deployments.served_routes(self.steward)
        for entry in served:
            current = self._live.get(entry.deployment)
            if current is not None and current.revision == entry.revision:
                continue
            failed_at = self._failed.get((entry.deployment, entry.revision))
            if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_LOAD_S:
                continue
            try:
                self.install(entry.deployment, entry.model, entry.revision, entry.routes)
            except Exception:
                self._failed[(entry.deployment, entry.revision)] = time.monotonic()
                log.exception("cannot load revision %s of %s", entry.revision, entry.deployment)
        known = {e.deployment for e in served}
        for name in [n for n in self._live if n not in known]:
            del self._live[name]
        self.cache.retain_only({(d.model, v) for d in self._live.values() for v in d.versions})

    def load_versions(self, model: str, routes: list[Route]) -> dict[int, LoadedVersion]:
        return {r["version"]: self.cache.get(self.steward, model, r["version"]) for r in routes}

    def install(self, name: str, model: str, revision: int, routes: list[Route]) -> LiveDeployment:
        """Load everything the routes need first; then swap them in one assignment."""
        live = LiveDeployment(name, model, revision, routes, self.load_versions(model, routes))
        self._live = {**self._live, name: live}
        return live

    # -- used by request handlers ------------------------------------------------
    def live(self, name: str) -> LiveDeployment:
        live = self._live.get(name)
        if live is None:
            deployments.get_deployment(self.steward, name, history=1)  # NotFound if unknown
            raise Unavailable(f"deployment {name!r} is not ready in this server yet")
        return live

    def ready(self, name: str) -> bool:
        try:
            self.live(name)
        except (NotFound, Unavailable):
            return False
        return True

    def deployments(self) -> list[LiveDeployment]:
        return list(self._live.values())
