"""ARCHITECTURE rule 2: only bot/exchange/ imports ccxt; everything above it sees domain types."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_ccxt(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "ccxt" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ccxt":
            return True
    return False


def test_only_the_exchange_package_imports_ccxt() -> None:
    sources = [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("strategies").rglob("*.py")]
    exchange = ROOT / "bot" / "exchange"
    offenders = [
        str(p.relative_to(ROOT)) for p in sources if exchange not in p.parents and _imports_ccxt(p)
    ]
    assert offenders == []
