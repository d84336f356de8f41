"""Model life cycles: declarative definitions, the check and action registries, the engine.

Definitions (``spec``, ``definitions``, ``library``) are plain data checked at the
boundary; checks and actions plug in by name through registries.
"""
