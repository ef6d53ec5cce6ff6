"""Fast start (issue 10.5): heavy libraries load where they are used, not with the CLI. Checked by
what a fresh interpreter has imported, not by timing (the machine's load would decide that)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "ccxt", "fastapi", "uvicorn", "scipy", "matplotlib", "apprise", "alembic")


def _imported(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_cli_itself_loads_none_of_the_heavy_libraries() -> None:
    # what `hedgebot --help` imports before click prints the help
    assert _imported("import bot.cli") == []


def test_strategies_load_without_scipy() -> None:
    # the portfolio fit imports scipy when it first fits, not when the registry loads
    assert "scipy" not in _imported("import strategies")
