"""Settings read from the environment (``STEWARD_*``), with an embedded default.

With nothing set, everything lives under ``./.steward``: a SQLite database, the
artifact folder and the admin token. Setting ``STEWARD_DB_URL`` or ``STEWARD_ARTIFACTS``
moves the metadata or the artifacts elsewhere without code changes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_JSON_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_LOADED_BYTES = 4 * 1024**3


PART_CODECS = ("none", "snappy", "lz4", "zstd", "gzip", "brotli")

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
"""Host names a request may carry when ``STEWARD_ALLOWED_HOSTS`` is unset."""
_WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")


def _part_compression(value: str | None, compact_minutes: float) -> str:
    """The prediction log's part-file codec: none while compaction recompresses them."""
    if value is None or not value.strip():
        return "none" if compact_minutes > 0 else "snappy"
    lowered = value.strip().lower()
    if lowered not in PART_CODECS:
        raise ValueError(
            f"STEWARD_LOG_PART_COMPRESSION must be one of {', '.join(PART_CODECS)}, "
            f"not {value[:20]!r}"
        )
    return lowered


def _switch(value: str, name: str) -> bool:
    """``on``/``off`` (also true/false, 1/0, yes/no) for an on/off setting."""
    lowered = value.strip().lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name} must be 'on' or 'off', not {value[:20]!r}")


def allowed_hosts(raw: str | None) -> tuple[str, ...]:
    """``STEWARD_ALLOWED_HOSTS``: comma-separated host names (``*.example.com`` for a
    domain's hosts, ``*`` for any); unset or empty, the local names only."""
    if raw is None or not raw.strip():
        return LOCAL_HOSTS
    found: list[str] = []
    for part in (p.strip().lower() for p in raw.split(",")):
        if not part:
            continue
        if part != "*" and ("*" in part[1:] or (part.startswith("*") and part[:2] != "*.")):
            raise ValueError(
                f"STEWARD_ALLOWED_HOSTS: {part[:64]!r} is not a host name or a pattern "
                "like '*.example.com' (or '*' for any)"
            )
        if ":" in part and not part.startswith("["):  # an IPv6 address, as Host writes it
            part = f"[{part}]"
        found.append(part)
    return tuple(found) or LOCAL_HOSTS


def bind_hosts(bind: str) -> tuple[str, ...]:
    """The default allow-list for a server listening on ``bind``: the local names and the
    address itself; on every interface (``0.0.0.0``), the machine's names and addresses."""
    if bind.strip().lower() not in _WILDCARD_BINDS:
        return tuple(dict.fromkeys((*LOCAL_HOSTS, *allowed_hosts(bind))))
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
        except OSError:
            continue
    return tuple(dict.fromkeys((*LOCAL_HOSTS, *allowed_hosts(",".join(sorted(names))))))


def home_id(home: Path) -> str:
    """A short digest of a STEWARD_HOME folder's resolved path."""
    digest = hashlib.sha256(b"modelsteward-home:" + str(home.resolve()).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Settings:
    home: Path
    db_url: str
    artifacts_url: str
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    trusted_types: tuple[str, ...] = field(default_factory=tuple)
    logs_url: str = ""
    log_flush_s: float = 1.0
    log_compact_minutes: float = 10.0
    log_compact_grace_minutes: float = 5.0
    log_part_compression: str = "none"
    serving_poll_s: float = 0.5
    resource_sample_s: float = 10.0
    batching: bool = True
    batch_max_rows: int = 64
    batch_max_wait_ms: float = 2.0
    inline_predict_ms: float = 5.0
    shadow_queue: int = 1024
    lazy_loading: bool = False
    max_loaded_bytes: int = DEFAULT_MAX_LOADED_BYTES
    unload_idle_s: float = 300.0
    scheduler_tick_s: float = 5.0
    events_poll_s: float = 0.05
    events_lease_s: float = 15.0
    events_retry_base_s: float = 2.0
    dask_address: str | None = None
    allow_networks: tuple[str, ...] = field(default_factory=tuple)
    """CIDRs outbound notifications may reach although private, loopback or link-local."""
    audit_checkpoint_minutes: float = 60.0
    session_hours: float = 12.0
    allowed_hosts: tuple[str, ...] = LOCAL_HOSTS
    """Host header values requests may carry (``STEWARD_ALLOWED_HOSTS``); others get 400."""
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_window_s: float = 900.0
    login_lockout_s: float = 30.0
    login_max_lockout_s: float = 3600.0
    """Host header values requests may carry (``STEWARD_ALLOWED_HOSTS``); others get 400."""

    @property
    def home_id(self) -> str:
        """Names this home without showing its path: a local CLI compares it with the
        home a server reports before sending that home's admin token to it."""
        return home_id(self.home)

    @property
    def admin_token_path(self) -> Path:
        return self.home / "admin.token"

    @property
    def signing_key_path(self) -> Path:
        return self.home / "signing.key"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("STEWARD_HOME", ".steward")).expanduser().resolve()
        db_url = env.get("STEWARD_DB_URL") or f"sqlite:///{home / 'steward.db'}"
        artifacts = env.get("STEWARD_ARTIFACTS") or str(home / "artifacts")
        max_upload = int(env.get("STEWARD_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
        extra_types = tuple(
            t.strip() for t in env.get("STEWARD_TRUSTED_TYPES", "").split(",") if t.strip()
        )
        compact_minutes = float(env.get("STEWARD_LOG_COMPACT_MINUTES", "10"))
        return cls(
            home=home,
            db_url=db_url,
            artifacts_url=artifacts,
            max_upload_bytes=max_upload,
            max_json_bytes=int(env.get("STEWARD_MAX_JSON_BYTES", DEFAULT_MAX_JSON_BYTES)),
            trusted_types=extra_types,
            logs_url=env.get("STEWARD_LOGS") or str(home / "logs"),
            log_flush_s=float(env.get("STEWARD_LOG_FLUSH_SECONDS", "1.0")),
            log_compact_minutes=compact_minutes,
            log_compact_grace_minutes=float(env.get("STEWARD_LOG_COMPACT_GRACE_MINUTES", "5")),
            log_part_compression=_part_compression(
                env.get("STEWARD_LOG_PART_COMPRESSION"), compact_minutes
            ),
            serving_poll_s=float(env.get("STEWARD_SERVING_POLL_SECONDS", "0.5")),
            resource_sample_s=float(env.get("STEWARD_RESOURCE_SAMPLE_SECONDS", "10")),
            batching=_switch(env.get("STEWARD_BATCHING", "on"), "STEWARD_BATCHING"),
            batch_max_rows=int(env.get("STEWARD_BATCH_MAX_ROWS", "64")),
            batch_max_wait_ms=float(env.get("STEWARD_BATCH_MAX_WAIT_MS", "2")),
            inline_predict_ms=float(env.get("STEWARD_INLINE_PREDICT_MS", "5")),
            shadow_queue=int(env.get("STEWARD_SHADOW_QUEUE", "1024")),
            lazy_loading=_switch(env.get("STEWARD_LAZY_LOADING", "off"), "STEWARD_LAZY_LOADING"),
            max_loaded_bytes=int(
                env.get("STEWARD_MAX_LOADED_BYTES", str(DEFAULT_MAX_LOADED_BYTES))
            ),
            unload_idle_s=float(env.get("STEWARD_UNLOAD_IDLE_SECONDS", "300")),
            scheduler_tick_s=float(env.get("STEWARD_SCHEDULER_SECONDS", "5")),
            events_poll_s=_positive(env, "STEWARD_EVENTS_POLL_SECONDS", "0.05"),
            events_lease_s=_positive(env, "STEWARD_EVENTS_LEASE_SECONDS", "15"),
            events_retry_base_s=_positive(env, "STEWARD_EVENTS_RETRY_SECONDS", "2"),
            dask_address=env.get("STEWARD_DASK_ADDRESS", "").strip() or None,
            allow_networks=_networks(env.get("STEWARD_ALLOW_NETWORKS", "")),
            audit_checkpoint_minutes=float(env.get("STEWARD_AUDIT_CHECKPOINT_MINUTES", "60")),
            session_hours=_positive(env, "STEWARD_SESSION_HOURS", "12"),
            allowed_hosts=allowed_hosts(env.get("STEWARD_ALLOWED_HOSTS")),
            login_max_failures=_count(env, "STEWARD_LOGIN_MAX_FAILURES", "5"),
            login_address_max_failures=_count(env, "STEWARD_LOGIN_ADDRESS_MAX_FAILURES", "20"),
            login_window_s=_positive(env, "STEWARD_LOGIN_WINDOW_SECONDS", "900"),
            login_lockout_s=_positive(env, "STEWARD_LOGIN_LOCKOUT_SECONDS", "30"),
            login_max_lockout_s=_positive(env, "STEWARD_LOGIN_MAX_LOCKOUT_SECONDS", "3600"),
        )


def _positive(env: dict[str, str], name: str, default: str) -> float:
    raw = env.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw[:32]!r}") from None
    if not value > 0:
        raise ValueError(f"{name} must be more than 0 seconds, not {raw[:32]!r}")
    return value


def _count(env: dict[str, str], name: str, default: str) -> int:
    raw = env.get(name, default)
    if not raw.strip().isdecimal() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw[:32]!r}")
    return int(raw)


def _networks(raw: str) -> tuple[str, ...]:
    """``STEWARD_ALLOW_NETWORKS``: comma-separated CIDRs, each checked (a typo must not
    silently allow nothing, or everything)."""
    found: list[str] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(
                f"STEWARD_ALLOW_NETWORKS: {part[:64]!r} is not a network (e.g. 127.0.0.0/8)"
            ) from None
    return tuple(found)
