"""One registry shape for named plugins: life cycle checks and actions, KPI functions.

Foundation, not a service: every service that takes plugins by name uses it, so none
has to import another to get the shape.

Built-ins ship through a Python entry point group, the same door as third-party
packages; code in the process adds more by name. A plugin that fails to load is
logged and left out, so a broken plugin takes down only the definitions that name it
(they fail validation).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from modelsteward.errors import InvalidInput

log = logging.getLogger(__name__)
NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,127}$")


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


def validate_params(model: type[BaseModel], params: Mapping[str, Any], what: str) -> BaseModel:
    """A gate's or an action's ``params`` as its model; ``InvalidInput`` lists what is wrong."""
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"{what}: invalid params: {problems}") from None


class NamedRegistry(Generic[T]):
    """Plugins of one ``kind`` (``check``, ``action``, ``kpi``) found by name."""

    def __init__(self, group: str, kind: str, cls: type[T]) -> None:
        self.group, self.kind, self.cls = group, kind, cls
        self._registered: dict[str, T] = {}
        self._discovered: dict[str, T] | None = None

    def discovered(self) -> dict[str, T]:
        """The entry point plugins, loaded once (``forget`` makes the next call look again)."""
        if self._discovered is None:
            found: dict[str, T] = {}
            for ep in entry_points(group=self.group):
                try:
                    plugin = ep.load()
                except Exception:
                    log.exception(
                        "cannot load %s %r from entry point group %s",
                        self.kind,
                        ep.name,
                        self.group,
                    )
                    continue
                if isinstance(plugin, self.cls):
                    found[plugin.name] = plugin
                else:
                    log.error(
                        "entry point %r in %s is not a %s", ep.name, self.group, self.cls.__name__
                    )
            self._discovered = found
        return self._discovered

    def forget(self) -> None:
        self._discovered = None

    def register(self, plugin: T, *, replace: bool = False) -> T:
        """Add a plugin in this process; a name already taken needs ``replace=True``."""
        if not NAME.fullmatch(plugin.name):
            raise ValueError(
                f"invalid {self.kind} name {plugin.name!r}: use lower-case letters, digits, _.-"
            )
        if not replace and (plugin.name in self._registered or plugin.name in self.discovered()):
            raise ValueError(f"a {self.kind} named {plugin.name!r} is already registered")
        self._registered[plugin.name] = plugin
        return plugin

    def unregister(self, name: str) -> None:
        """Remove a plugin added with ``register`` (entry point plugins stay)."""
        self._registered.pop(name, None)

    def available(self) -> dict[str, T]:
        return {**self.discovered(), **self._registered}

    def names(self) -> list[str]:
        return sorted(self.available())

    def get(self, name: str) -> T:
        plugins = self.available()
        if name not in plugins:
            known = ", ".join(sorted(plugins)) or "none registered"
            raise InvalidInput(f"unknown {self.kind} {name[:64]!r}; known {self.kind}s: {known}")
        return plugins[name]
