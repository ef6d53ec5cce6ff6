"""The throwaway-Postgres helper finds server binaries, or reports that there are none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg import find_bindir


def _fake_install(root: Path, version: str) -> Path:
    bindir = root / version / "bin"
    bindir.mkdir(parents=True)
    (bindir / "initdb").write_text("")
    return bindir


def test_no_binaries_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_bindir(tmp_path / "usr-lib-postgresql") is None


def test_newest_debian_version_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _fake_install(tmp_path, "9")
    newest = _fake_install(tmp_path, "15")
    _fake_install(tmp_path, "13")
    assert find_bindir(tmp_path) == newest


def test_path_takes_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = tmp_path / "local" / "bin"
    on_path.mkdir(parents=True)
    initdb = on_path / "initdb"
    initdb.write_text("#!/bin/sh\n")
    initdb.chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path))
    _fake_install(tmp_path / "debian", "15")
    assert find_bindir(tmp_path / "debian") == on_path
