"""The README's strategy sections stay true: one per built-in, every parameter documented, and
every example configuration valid for its strategy."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from strategies import builtin_names, get_strategy

DOC = Path(__file__).resolve().parents[2] / "README.md"


def sections() -> dict[str, str]:
    text = DOC.read_text().split("\n## Strategies\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


@pytest.mark.parametrize("name", builtin_names())
def test_each_builtin_has_a_section_documenting_every_parameter(name: str) -> None:
    section = sections()[name]
    for param in get_strategy(name).Params.model_fields:
        assert f"| `{param}` |" in section, f"{name}: parameter {param} is not documented"


@pytest.mark.parametrize("name", builtin_names())
def test_each_example_configuration_is_valid(name: str) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", sections()[name], flags=re.DOTALL)
    assert blocks, f"{name}: no example configuration"
    for block in blocks:
        (hedge,) = tomllib.loads(block)["hedges"]
        assert hedge["strategy"] == name and hedge["enabled"] is True
        get_strategy(name).Params.model_validate(hedge.get("params", {}))


SITUATIONS = ("Crash", "ebound", "**Low correlation:**", "**Bad print:**", "**Sold holding:**")


@pytest.mark.parametrize("name", builtin_names())
def test_each_section_says_what_happens_in_the_situations_that_cost_money(name: str) -> None:
    section = sections()[name]
    for situation in SITUATIONS:
        assert situation in section, f"{name}: says nothing about {situation.strip('*:')}"


def example_hedge(name: str) -> dict:
    block = re.findall(r"```toml\n(.*?)```", sections()[name], flags=re.DOTALL)[0]
    (hedge,) = tomllib.loads(block)["hedges"]
    return hedge


def test_direct_example_follows_a_sale() -> None:
    from tests.unit.test_strategy_support import make_snapshot, make_strategy

    hedge = example_hedge("direct")
    strategy = make_strategy("direct", hedge["params"], perp=hedge["perp"])
    target = strategy.target(make_snapshot(balances={"BTC": "0.5"}), None)
    assert target is not None and target.size == Decimal("-0.5")


def test_basis_example_leaves_the_users_two_btc_alone() -> None:
    """The README: with 2 BTC of your own, waiting leaves them alone; entering buys 0.5 (holding
    2.5) and shorts 0.5; exiting sells 0.5 (back to 2) and closes the short."""
    from tests.unit.test_strategy_support import make_snapshot, make_strategy

    hedge = example_hedge("basis")
    strategy = make_strategy("basis", hedge["params"], perp=hedge["perp"])
    perp = hedge["perp"]

    def cycle(rate: str, btc: str, previous):
        snap = make_snapshot(
            balances={"BTC": btc},
            prices={"BTC/USDT": 40000, perp: 40000},
            funding={perp: rate},
            funding_history={perp: [rate] * 3},
        )
        return strategy.target(snap, previous)

    wait = cycle("0.00005", "2", None)
    assert wait is not None and wait.reason.startswith("basis wait") and wait.spot_size is None
    enter = cycle("0.0003", "2", wait)
    assert enter is not None and (enter.spot_size, enter.size) == (Decimal("2.5"), Decimal("-0.5"))
    stay = cycle("0.0003", "2.5", enter)
    assert stay is not None and stay.spot_size is None and stay.size == Decimal("-0.5")
    leave = cycle("0.00001", "2.5", stay)
    assert leave is not None and (leave.spot_size, leave.size) == (Decimal(2), 0)
