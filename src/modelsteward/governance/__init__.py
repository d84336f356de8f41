"""Governance: a peer service that reads the others and registers checks and guards into them.

It will hold model cards, controls and their evaluations, obligations, PII scans and
audit reports. Identity, roles and tokens (``modelsteward.identity``) and the audit
chain and signing (``modelsteward.audit``) are foundation, used by every service.
"""
