"""The serving runtime of one process: loaded versions and the routes that use them.

A background thread follows the database: it runs pending rollouts (claimed with a
compare-and-set, so exactly one worker runs each) and loads what newly applied
revisions need, then swaps the routes in one step. It looks when a deployment event
reaches this process (the ``serving.routes`` subscriber, see ``serving.reactions``)
and, as a fallback, every ``poll_interval_s``. The
previous routes keep serving until the new ones are loaded, and model files are
loaded on this thread, never inside a request handler.

By default every applied deployment is loaded eagerly. With lazy loading a deployment
is loaded when its first request arrives (that request gets ``ModelLoading``, a 503
to retry), and loaded versions are kept under a byte bound: to make room, the least
recently used versions whose deployments had no request for ``unload_idle_s`` are
unloaded, and their deployments report not ready until a request loads them again.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from modelsteward.context import Steward
from modelsteward.errors import Unavailable
from modelsteward.registry.loading import load_model
from modelsteward.registry.versions import get_version
from modelsteward.registry.views import VersionView
from modelsteward.serving import deployments
from modelsteward.serving.plan import Route
from modelsteward.serving.scoring import answering
from modelsteward.serving.views import ServedRoutes

log = logging.getLogger(__name__)
RETRY_FAILED_LOAD_S = 30.0
# A loaded version is estimated at its artifact files' total size times a factor. Measured
# resident memory: 0.1-1.4x the file for skops, XGBoost and LightGBM models; up to 5.2x
# for ONNX tree ensembles, which ONNX Runtime expands. Both err on unloading early.
LOADED_SIZE_FACTOR = 2.0
LOADED_SIZE_FACTORS = {"onnx": 6.0}
VersionKey = tuple[str, int]


class ModelLoading(Unavailable):
    """The deployment is being loaded in this server; the same request will succeed soon."""

    code = "model_loading"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class LoadedVersion:
    model: str
    version: int
    predictor: Any
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    training_data: dict[str, Any] | None
    flavor: str
    size_bytes: int = 0
    # What serving calls: ``predictor.predict``, or for a classifier with probabilities
    # a function returning a ``ClassifierAnswer`` (see ``serving.scoring``).
    answer: Callable[[Any], Any] | None = None

    def run(self, inputs: Any) -> Any:
        return (self.answer or self.predictor.predict)(inputs)


@dataclass(frozen=True)
class LiveDeployment:
    name: str
    model: str
    revision: int
    routes: list[Route]
    versions: dict[int, LoadedVersion] = field(default_factory=dict)

    def keys(self) -> set[VersionKey]:
        return {(self.model, v) for v in self.versions}


def estimated_size(view: VersionView) -> int:
    """Bytes a version will take once loaded, known before loading it."""
    factor = LOADED_SIZE_FACTORS.get(view.flavor, LOADED_SIZE_FACTOR)
    return int(sum(f.size for f in view.files) * factor)


class ModelCache:
    """Loaded versions shared by every deployment of this process, with their last use."""

    def __init__(self) -> None:
        self._loaded: dict[VersionKey, LoadedVersion] = {}
        self._used: dict[VersionKey, float] = {}
        self._lock = threading.Lock()
        self._unload_listeners: list[Callable[[list[VersionKey]], None]] = []

    def get(self, steward: Steward, model: str, version: int) -> LoadedVersion:
        key = (model, version)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        view = get_version(steward, model, version)
        predictor = load_model(steward, model, version)
        loaded = LoadedVersion(
            model=model,
            version=version,
            predictor=predictor,
            input_schema=view.input_schema,
            output_schema=view.output_schema,
            training_data=view.training_data,
            flavor=view.flavor,
            size_bytes=estimated_size(view),
            answer=answering(predictor),
        )
        with self._lock:
            self._used[key] = time.monotonic()
            return self._loaded.setdefault(key, loaded)

    def holds(self, loaded: LoadedVersion) -> bool:
        """Whether this very object is still the loaded copy of its version."""
        return self._loaded.get((loaded.model, loaded.version)) is loaded

    def touch(self, keys: Iterable[VersionKey]) -> None:
        now = time.monotonic()
        for key in keys:
            self._used[key] = now

    def on_unload(self, listener: Callable[[list[VersionKey]], None]) -> None:
        """Call ``listener`` with the keys of versions as they are unloaded."""
        self._unload_listeners.append(listener)

    def make_room(
        self, needed: int, bound: int, *, keep: set[VersionKey], idle_s: float
    ) -> list[VersionKey]:
        """Unload least recently used versions, idle for ``idle_s``, until ``needed`` fits."""
        now = time.monotonic()
        with self._lock:
            total = needed + sum(v.size_bytes for v in self._loaded.values())
            idle = sorted(
                (k for k in self._loaded if k not in keep and now - self._used[k] >= idle_s),
                key=lambda k: self._used[k],
            )
            unloaded = []
            for key in idle:
                if total <= bound:
                    break
                total -= self._loaded[key].size_bytes
                unloaded.append(key)
        if total > bound:
            log.warning(
                "models need about %s bytes, over the %s bound, and are in use", total, bound
            )
        self._unload(unloaded)
        return unloaded

    def retain_only(self, keep: set[VersionKey]) -> None:
        """Unload versions no deployment routes to any more."""
        with self._lock:
            gone = [k for k in self._loaded if k not in keep]
        self._unload(gone)

    def _unload(self, keys: list[VersionKey]) -> None:
        if not keys:
            return
        with self._lock:
            for key in keys:
                self._loaded.pop(key, None)
                self._used.pop(key, None)
        for listener in self._unload_listeners:
            listener(keys)

    def __contains__(self, key: object) -> bool:
        return key in self._loaded

    def __len__(self) -> int:
        return len(self._loaded)


_RUNNING: weakref.WeakSet[ServingRuntime] = weakref.WeakSet()
"""The started runtimes of this process, so an event can wake the ones it concerns."""


def running(steward: Steward) -> list[ServingRuntime]:
    """This process's started runtimes that serve ``steward``'s stores."""
    return [runtime for runtime in list(_RUNNING) if runtime.steward is steward]


class ServingRuntime:
    def __init__(self, steward: Steward, *, poll_interval_s: float = 0.5) -> None:
        self.steward = steward
        self.poll_interval_s = poll_interval_s
        self.lazy_loading = steward.settings.lazy_loading
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.cache = ModelCache()
        self._live: dict[str, LiveDeployment] = {}
        self._served: dict[str, ServedRoutes] = {}
        self._wanted: set[str] = set()
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
            _RUNNING.add(self)

    def wake(self) -> None:
        """Look at the database now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        _RUNNING.discard(self)
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
        self._served = {entry.deployment: entry for entry in served}
        for entry in served:
            current = self._live.get(entry.deployment)
            if current is not None and current.revision == entry.revision:
                continue
            if current is None and self.lazy_loading and entry.deployment not in self._wanted:
                continue
            failed_at = self._failed.get((entry.deployment, entry.revision))
            if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_LOAD_S:
                continue
            try:
                self.install(entry.deployment, entry.model, entry.revision, entry.routes)
            except Exception:
                self._failed[(entry.deployment, entry.revision)] = time.monotonic()
                log.exception("cannot load revision %s of %s", entry.revision, entry.deployment)
        self._live = {n: d for n, d in self._live.items() if n in self._served}
        self.cache.retain_only(set().union(*(d.keys() for d in self._live.values())))

    def load_versions(self, model: str, routes: list[Route]) -> dict[int, LoadedVersion]:
        if self.lazy_loading:
            self._make_room({(model, r["version"]) for r in routes})
        return {r["version"]: self.cache.get(self.steward, model, r["version"]) for r in routes}

    def _make_room(self, keys: set[VersionKey]) -> None:
        settings = self.steward.settings
        needed = sum(
            estimated_size(get_version(self.steward, *k)) for k in keys if k not in self.cache
        )
        bound, idle_s = settings.max_loaded_bytes, settings.unload_idle_s
        unloaded = set(self.cache.make_room(needed, bound, keep=keys, idle_s=idle_s))
        if unloaded:
            evicted = sorted(n for n, d in self._live.items() if d.keys() & unloaded)
            self._live = {n: d for n, d in self._live.items() if n not in evicted}
            log.info("unloaded %s to stay under the memory bound", ", ".join(evicted))

    def install(self, name: str, model: str, revision: int, routes: list[Route]) -> LiveDeployment:
        """Load everything the routes need first; then swap them in one assignment."""
        live = LiveDeployment(name, model, revision, routes, self.load_versions(model, routes))
        self._live = {**self._live, name: live}
        self._wanted.discard(name)
        self._failed.pop((name, revision), None)
        return live

    # -- used by request handlers ------------------------------------------------
    def live(self, name: str) -> LiveDeployment:
        """The deployment's loaded routes, or why there are none here; changes nothing."""
        live = self._live.get(name)
        if live is not None:
            return live
        self._check_loadable(name)
        if not self.lazy_loading:
            raise Unavailable(f"deployment {name!r} is not ready in this server yet")
        if name in self._wanted:
            retry = max(1, math.ceil(self.poll_interval_s))
            raise ModelLoading(
                f"deployment {name!r} is loading in this server; retry in {retry} s",
                retry_after_s=retry,
            )
        raise Unavailable(f"deployment {name!r} is not loaded in this server; a request loads it")

    def use(self, name: str) -> LiveDeployment:
        """``live(name)`` for a prediction: notes the use and, lazily, asks for a load.

        The load happens on the runtime's thread; meanwhile requests get ``ModelLoading``.
        """
        live = self._live.get(name)
        if live is not None:
            self.cache.touch(live.keys())
            return live
        if self.lazy_loading and name not in self._wanted:
            self._check_loadable(name)
            self._wanted.add(name)
            self._wake.set()
        return self.live(name)

    def _check_loadable(self, name: str) -> None:
        served = self._served.get(name)
        if served is None:
            deployments.get_deployment(self.steward, name, history=1)  # NotFound if unknown
        elif (name, served.revision) in self._failed:
            raise Unavailable(
                f"deployment {name!r} failed to load in this server (see its log); "
                f"it is retried every {RETRY_FAILED_LOAD_S:.0f} s"
            )

    def loaded(self, name: str) -> LiveDeployment | None:
        """The deployment's routes if loaded here; no database, no side effects."""
        return self._live.get(name)

    def ready(self, name: str) -> bool:
        """Whether ``name`` is loaded here and answers requests without waiting."""
        return name in self._live

    def pending(self) -> list[str]:
        """Deployments this process should have loaded but has not (for its readiness).

        Eagerly every applied deployment; lazily only those a request has asked for.
        """
        served = [s.deployment for s in deployments.served_routes(self.steward)]
        if self.lazy_loading:
            served = [n for n in served if n in self._wanted]
        return sorted(n for n in served if n not in self._live)

    def deployments(self) -> list[LiveDeployment]:
        return list(self._live.values())
