"""PostgreSQL LISTEN/NOTIFY: any process's commit wakes every dispatcher at once.

A change that writes events sends ``NOTIFY`` (``outbox.CHANNEL``), which PostgreSQL
delivers at commit. The listener holds one connection of its own, outside the pool,
and rings the steward's doorbell for each notification; polling stays the fallback.
When the connection breaks (a database restart) it reconnects with a growing pause
and rings once, so nothing committed meanwhile waits for the next poll.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import make_url

from modelsteward.events.outbox import CHANNEL

log = logging.getLogger(__name__)
WAIT_S = 1.0
RECONNECT_MAX_S = 10.0


def libpq_url(db_url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it (without the ``+psycopg`` driver part)."""
    url = make_url(db_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    def __init__(self, db_url: str, doorbell: threading.Event) -> None:
        self._url = libpq_url(db_url)
        self._doorbell = doorbell
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steward-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S * 3)

    def _run(self) -> None:
        import psycopg

        pause = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    self._doorbell.set()  # whatever was committed while we were away
                    pause = 0.5
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=WAIT_S, stop_after=1):
                            self._doorbell.set()
            except Exception as exc:  # a restart or a network fault: reconnect
                self.connected.clear()
                log.warning("event listener lost its connection (%s); reconnecting", exc)
                self._stop.wait(pause)
                pause = min(pause * 2, RECONNECT_MAX_S)
