"""Example models for ``steward demo``."""
