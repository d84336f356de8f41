"""Domain events across processes: a typed catalogue, a transactional outbox and the
dispatcher that delivers each committed event at least once to every subscriber.

Foundation: services record events through ``Change.record``, declare them in the
catalogue and their reactions in the subscriber registry; nothing here imports a
service (their declarations arrive through entry points). See ``docs/events.md``.
"""
