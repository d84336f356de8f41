"""Who acts: users, API tokens and principals (``users``), roles and permissions (``roles``).

Foundation, not a service: every service checks who acts and records it, so none
imports governance to do so.
"""
