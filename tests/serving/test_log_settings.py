"""The server writes its log's part files uncompressed while compaction recompresses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.config import Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"STEWARD_HOME": str(tmp_path), **env})


def test_part_files_are_uncompressed_while_compaction_is_on(tmp_path: Path) -> None:
    assert settings(tmp_path).log_part_compression == "none"


def test_part_files_are_compressed_when_nothing_would_compact_them(tmp_path: Path) -> None:
    off = settings(tmp_path, STEWARD_LOG_COMPACT_MINUTES="0")
    assert off.log_part_compression == "snappy"


def test_a_named_codec_is_used_as_given(tmp_path: Path) -> None:
    chosen = settings(tmp_path, STEWARD_LOG_PART_COMPRESSION=" ZSTD ")
    assert chosen.log_part_compression == "zstd"


def test_an_unknown_codec_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="STEWARD_LOG_PART_COMPRESSION must be one of none"):
        settings(tmp_path, STEWARD_LOG_PART_COMPRESSION="rar")
