"""Request ids are 16 hex digits, unique within a process and across forked workers."""

from __future__ import annotations

import os
import re

from modelsteward.ids import request_id


def test_request_ids_are_sixteen_hex_digits_and_never_repeat() -> None:
    ids = [request_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_worker_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, then out without running pytest's teardown
        os.write(write, ",".join(request_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    parent = {request_id() for _ in range(100)}
    assert len(child) == 100 and not child & parent
