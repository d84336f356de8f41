"""Automated checks for life cycle gates: the registry and one module per built-in."""

from modelsteward.lifecycle.checks.registry import (
    Check,
    CheckContext,
    CheckResult,
    available_checks,
    check_names,
    get_check,
    register_check,
    unregister_check,
)

__all__ = [
    "Check",
    "CheckContext",
    "CheckResult",
    "available_checks",
    "check_names",
    "get_check",
    "register_check",
    "unregister_check",
]
