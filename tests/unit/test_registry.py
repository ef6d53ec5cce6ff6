from __future__ import annotations

import importlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

import strategies
from bot.domain import HedgeSpec, frozen_map
from strategies import builtin_names, describe_all, get_strategy, plugin_errors, registry
from strategies.base import Strategy
from tests.unit.test_strategy_support import BTC_PERP, make_snapshot

PLUGIN_ROOT = Path(__file__).resolve().parents[1] / "plugin_example"
BUILTINS = ("direct", "cross", "dynamic", "funding", "basis", "portfolio")


def install_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, lines: list[str]
) -> None:
    """Make ``lines`` discoverable as ``hedgebot.strategies`` entry points without pip."""
    dist = tmp_path / f"{name.replace('-', '_')}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[hedgebot.strategies]\n" + "\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()


@pytest.fixture
def example_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGIN_ROOT))
    install_entry_points(
        tmp_path,
        monkeypatch,
        "hedgebot-example-strategy",
        ["half = hedgebot_example_strategy:HalfHedge"],
    )


def test_every_builtin_is_registered_first() -> None:
    reg = registry()
    assert tuple(reg)[: len(BUILTINS)] == BUILTINS
    assert builtin_names() == BUILTINS
    assert "half" not in reg  # only discoverable once its dist-info is on sys.path
    for name in BUILTINS:
        assert issubclass(reg[name], Strategy) and reg[name].name == name


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: basis, cross"):
        get_strategy("nope")


def test_entry_point_plugin_is_found_and_computes_targets(example_plugin: None) -> None:
    reg = registry()
    assert "half" in reg
    cls = get_strategy("half")
    strategy = cls.from_spec(HedgeSpec("h", "BTC", BTC_PERP, "half", frozen_map({})))
    snap = make_snapshot(balances={"BTC": 3}, prices={BTC_PERP: 40000})
    (target,) = strategy.targets(snap, {})
    assert target.size == Decimal("-1.5") and target.perp_symbol == BTC_PERP
    described = {d["name"]: d for d in describe_all()}
    assert described["half"]["builtin"] is False
    assert described["half"]["params"][0]["name"] == "fraction"


def test_plugin_cannot_replace_a_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGIN_ROOT))
    install_entry_points(
        tmp_path, monkeypatch, "evil", ["cross = hedgebot_example_strategy:HalfHedge"]
    )
    assert get_strategy("cross") is strategies.CrossHedge


def test_broken_plugins_are_left_out_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_entry_points(
        tmp_path,
        monkeypatch,
        "broken",
        ["gone = no_such_module_hedgebot:Nope", "notastrategy = decimal:Decimal"],
    )
    reg = registry()
    assert "gone" not in reg and "notastrategy" not in reg
    assert set(BUILTINS) <= set(reg)
    errors = plugin_errors()
    assert "ModuleNotFoundError" in errors["gone"]
    assert "not a Strategy" in errors["notastrategy"]


def test_describe_all_lists_params_with_defaults_and_descriptions() -> None:
    described = describe_all()
    json.dumps(described)  # the CLI may print it as JSON
    by_name = {d["name"]: d for d in described}
    assert list(by_name)[: len(BUILTINS)] == list(BUILTINS)
    cross = by_name["cross"]
    assert cross["builtin"] is True and cross["summary"]
    params = {p["name"]: p for p in cross["params"]}
    assert params["window"]["default"] == 168
    assert params["min_correlation"]["default"] == "0.6"
    assert ">= 0" in params["min_correlation"]["constraints"]
    assert params["window"]["description"]
    portfolio = {p["name"]: p for p in by_name["portfolio"]["params"]}
    assert portfolio["assets"]["required"] is True and portfolio["assets"]["default"] is None
    basis = {p["name"]: p for p in by_name["basis"]["params"]}
    assert basis["perp_fee_rate"]["default"] == "0.00055"
    assert basis["spot_fee_rate"]["default"] == "0.001"
