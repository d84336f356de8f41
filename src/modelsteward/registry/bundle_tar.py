"""Reading an untrusted bundle archive without trusting anything in it.

Nothing is ever extracted to disk. Members are checked from their headers before
any data is read: only regular files named ``manifest.json``, ``signature`` or
``files/<sha256>`` are allowed, each once, and the declared sizes must add up to
less than the bundle limit (so a gzip bomb stops at the limit, not at the disk).
"""

from __future__ import annotations

import re
import tarfile

from modelsteward.errors import IntegrityFailure, PayloadTooLarge

MANIFEST = "manifest.json"
SIGNATURE = "signature"
MAX_MEMBERS = 2 + 256
_FILE_MEMBER = re.compile(r"files/[0-9a-f]{64}")
_KINDS = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.DIRTYPE: "directory",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "FIFO",
}


def file_member(sha256: str) -> str:
    return f"files/{sha256}"


def unreadable_archive(exc: BaseException) -> IntegrityFailure:
    reason = str(exc)[:120] or type(exc).__name__
    return IntegrityFailure(
        f"bundle is not a readable tar archive (truncated or corrupt: {reason})"
    )


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    shown = repr(name[:80])
    if name.startswith("/") or "\\" in name or ".." in name.split("/"):
        raise IntegrityFailure(f"bundle member {shown} has an unsafe path")
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        kind = _KINDS.get(member.type, f"special member (type {member.type!r})")
        raise IntegrityFailure(f"bundle member {shown} is a {kind}; only plain files are allowed")
    if name not in (MANIFEST, SIGNATURE) and not _FILE_MEMBER.fullmatch(name):
        raise IntegrityFailure(f"unexpected bundle member {shown}")


def read_members(tar: tarfile.TarFile, limit: int) -> dict[str, tarfile.TarInfo]:
    """Every member's header, checked; raises before any member's data is read."""
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    for member in tar:
        _check_member(member)
        if member.name in members:
            raise IntegrityFailure(f"bundle member {member.name!r} appears twice")
        total += member.size
        if total > limit:
            raise PayloadTooLarge(f"bundle holds more than the limit of {limit} bytes")
        members[member.name] = member
        if len(members) > MAX_MEMBERS:
            raise IntegrityFailure(f"bundle has more than {MAX_MEMBERS} members")
    for required in (MANIFEST, SIGNATURE):
        if required not in members:
            raise IntegrityFailure(f"bundle has no {required} (truncated or not a bundle)")
    return members


def read_small(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str, limit: int
) -> bytes:
    member = members[name]
    if member.size > limit:
        raise IntegrityFailure(f"bundle member {name} is larger than {limit} bytes")
    handle = tar.extractfile(member)
    if handle is None:
        raise IntegrityFailure(f"bundle member {name} is not a file")
    with handle:
        data = handle.read(limit + 1)
    if len(data) != member.size:
        raise IntegrityFailure(f"bundle member {name} is truncated")
    return data
