"""The drift methods by stable name. A new method is one module and one line here."""

from __future__ import annotations

from modelsteward.errors import InvalidInput
from modelsteward.monitoring.drift import chi_square, jensen_shannon, ks, psi, wasserstein
from modelsteward.monitoring.drift.base import DriftMethod

METHODS: dict[str, DriftMethod] = {
    module.METHOD.name: module.METHOD
    for module in (ks, wasserstein, psi, jensen_shannon, chi_square)
}


def get_method(name: str) -> DriftMethod:
    try:
        return METHODS[name]
    except KeyError:
        known = ", ".join(sorted(METHODS))
        raise InvalidInput(f"unknown drift method {name!r}; use one of {known}") from None
