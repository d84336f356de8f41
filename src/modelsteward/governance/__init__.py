"""Governance: identity and roles, the audit trail, trust decisions."""
