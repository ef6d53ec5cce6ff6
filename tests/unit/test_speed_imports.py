"""Fast start (issue 10.5): heavy libraries load where they are used, not with the CLI. Checked by
what a fresh interpreter has imported, not by timing (the machine's load would decide that)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "ccxt",
    "fastapi",
    "uvicorn",
    "scipy",
    "matplotlib",
    "apprise",
    "alembic",
    "rich",
)


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


def test_reading_the_database_loads_no_alembic() -> None:
    # `status` and a start on an up-to-date database: Alembic loads only to migrate
    code = "import bot.app, bot.review.queries, bot.store.revision, bot.cli"
    assert "alembic" not in _imported(code)


def test_ccxt_loads_the_exchange_classes_asked_for_only() -> None:
    probe = (
        "import sys\nfrom bot.exchange import factory\n"
        "assert factory.ccxt_async.bybit.__name__ == 'bybit'\n"
        "exchanges = sorted({m.split('.')[-1] for m in sys.modules if m.startswith('ccxt.')}\n"
        "                   & set(factory.ccxt_async.exchanges))\n"
        "assert hasattr(factory.ccxt_async, 'okx') and not hasattr(factory.ccxt_async, 'nope')\n"
        "print(' '.join(exchanges))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["bybit"]  # okx: found by hasattr, loaded only then


def test_alerts_without_a_url_load_no_apprise() -> None:
    assert "apprise" not in _imported("from bot.notify.channel import Notifier\nNotifier([])")


async def test_status_on_sqlite_loads_no_sqlalchemy(tmp_path) -> None:
    from bot.store.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await upgrade(url)
    code = (
        "import bot.cli\nfrom bot.review.status_lite import status_lite\n"
        f"assert status_lite({url!r}) is not None"
    )
    assert _imported(code) == []
