"""What happened, provably: the hash-chained audit trail and the instance's signing keys.

``chain`` appends records and verifies the chain, ``trail`` reads it back, ``signing``
holds the Ed25519 key that signs exported bundles and the audited list of trusted keys.
Foundation, not a service: every change writes its record through ``Change.record``.
"""
