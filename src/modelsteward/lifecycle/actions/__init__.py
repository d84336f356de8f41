"""Actions run on entering a life cycle state: the registry and one module per built-in."""

from modelsteward.lifecycle.actions.registry import (
    Action,
    ActionContext,
    ActionResult,
    action_names,
    available_actions,
    get_action,
    register_action,
    unregister_action,
)

__all__ = [
    "Action",
    "ActionContext",
    "ActionResult",
    "action_names",
    "available_actions",
    "get_action",
    "register_action",
    "unregister_action",
]
