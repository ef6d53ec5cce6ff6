"""The schema revision this version needs, read from the shipped migration scripts' ``revision``
and ``down_revision`` lines: no Alembic, no SQLAlchemy (tests/unit/test_store_revision.py checks
it against Alembic's answer)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
VERSION_TABLE = "alembic_version"  # Alembic's own bookkeeping table
_ASSIGNED = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


@cache
def head_revision() -> str:
    """The newest migration: the one no other script names as its down_revision."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_ASSIGNED.findall(script.read_text(encoding="utf-8")))
        if "revision" in found:
            revisions.update(_QUOTED.findall(found["revision"]))
            parents.update(_QUOTED.findall(found.get("down_revision", "")))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one head among the migrations in {MIGRATIONS_DIR}: {heads}")
    return heads.pop()
