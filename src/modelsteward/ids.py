"""Request ids: 64 random bits as 16 hex digits, without a system call per request.

``uuid.uuid4`` reads the kernel's random source on every call, several microseconds in a
virtual machine, paid by every request served. A per-process generator seeded from that
source once (and again in a forked child) gives ids just as unique. They identify
requests (in the log, in label joins, in error answers); they are not secrets, and
nothing may rely on them being unguessable.
"""

from __future__ import annotations

import os
import random

_random = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_random.seed)


def request_id() -> str:
    """A new request id: 16 lower-case hex digits."""
    return f"{_random.getrandbits(64):016x}"
