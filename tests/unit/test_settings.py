import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import (
    config_warnings,
    load_config_file,
    load_runtime,
    parse_config,
    refuse_live_without_opt_in,
)

GOOD = """
[planner]
rebalance_band = 0.05

[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
[hedges.params]
ratio = 0.8
"""


def test_valid_config_parses_decimals_exactly():
    cfg = parse_config(GOOD)
    assert str(cfg.planner.rebalance_band) == "0.05"
    (spec,) = cfg.specs()
    assert spec.perp_symbol == "BTC/USDT:USDT" and spec.params["ratio"] == 0.8


def test_embedded_demo_config_hedges_btc_and_eth():
    cfg = load_config_file(None)
    assert [(h.spot_asset, h.perp) for h in cfg.hedges] == [
        ("BTC", "BTC/USDT:USDT"),
        ("ETH", "ETH/USDT:USDT"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[planner]\nrebalance_band = 2", "planner.rebalance_band: Input should be less than 1"),
        ("[bot]\nintervall = 3", "bot.intervall: Extra inputs are not permitted"),
        (
            '[[hedges]]\nname="a"\nspot_asset="BTC"\nperp="BTC/USDT:USDT"\nstrategy="nope"',
            "hedges[0].strategy: unknown strategy 'nope'",
        ),
        (
            '[[hedges]]\nname="a"\nspot_asset="BTC"\nperp="BTC/USDT:USDT"\n[hedges.params]\nratio=9',
            "hedges[0].params.ratio: Input should be less than or equal to 1.5",
        ),
        (
            '[[hedges]]\nname="a"\nspot_asset="BTC"\nperp="BTCUSDT"',
            "hedges[0].perp: 'BTCUSDT' is not a perp symbol",
        ),
        ('[[hedges]]\nname="a"\nperp="BTC/USDT:USDT"', "hedges[0].spot_asset: required"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_each_problem_names_its_key(text, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert any(expected in line for line in err.value.problems), err.value.problems


def test_several_problems_give_one_line_each():
    text = "[bot]\ninterval = -1\n[planner]\ncooldown_seconds = -5\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert len(err.value.problems) == 2


def test_duplicate_hedge_names():
    text = '[[hedges]]\nname="a"\nspot_asset="BTC"\nperp="BTC/USDT:USDT"\n' * 2
    with pytest.raises(ConfigError, match="repeated: a"):
        parse_config(text)


def test_runtime_from_environment(monkeypatch):
    monkeypatch.setenv("HEDGEBOT_MODE", "testnet")
    monkeypatch.setenv("HEDGEBOT_API_KEY", "k" * 18)
    monkeypatch.setenv("HEDGEBOT_API_SECRET", "s" * 36)
    rt = load_runtime()
    assert rt.mode == "testnet"
    assert "s" * 36 not in repr(rt) and "k" * 18 not in repr(rt)


def test_runtime_errors_name_the_variable(monkeypatch):
    monkeypatch.setenv("HEDGEBOT_MODE", "moon")
    with pytest.raises(ConfigError) as err:
        load_runtime()
    assert err.value.problems[0].startswith("HEDGEBOT_MODE:")


def test_testnet_needs_keys(monkeypatch):
    monkeypatch.setenv("HEDGEBOT_MODE", "testnet")
    monkeypatch.delenv("HEDGEBOT_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="HEDGEBOT_API_KEY"):
        load_runtime()


def test_live_needs_setting_and_flag(monkeypatch):
    monkeypatch.setenv("HEDGEBOT_MODE", "live")
    monkeypatch.setenv("HEDGEBOT_API_KEY", "key-123456")
    monkeypatch.setenv("HEDGEBOT_API_SECRET", "secret-123456")
    rt = load_runtime()
    with pytest.raises(ConfigError, match="HEDGEBOT_ALLOW_LIVE=true and the --i-understand-live"):
        refuse_live_without_opt_in(rt, confirmed=False)
    monkeypatch.setenv("HEDGEBOT_ALLOW_LIVE", "true")
    with pytest.raises(ConfigError, match="missing the --i-understand-live flag"):
        refuse_live_without_opt_in(load_runtime(), confirmed=False)
    refuse_live_without_opt_in(load_runtime(), confirmed=True)


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_check_config_exits_2_naming_the_key_without_traceback(tmp_path):
    bad = tmp_path / "hedgebot.toml"
    bad.write_text(
        '[[hedges]]\nname="a"\nspot_asset="BTC"\nperp="BTC/USDT:USDT"\n'
        '[hedges.params]\nratio = "lots"\n'
    )
    proc = _cli("check-config", "--config", str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "hedges[0].params.ratio" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_config_ok(tmp_path):
    good = tmp_path / "hedgebot.toml"
    good.write_text(GOOD)
    proc = _cli("check-config", "--config", str(good), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "configuration OK" in proc.stdout and "enabled=btc" in proc.stdout


def test_basis_may_not_share_its_spot_asset():
    text = (
        '[[hedges]]\nname="a"\nspot_asset="BTC"\nperp="BTC/USDT:USDT"\n'
        '[[hedges]]\nname="b"\nspot_asset="BTC"\nperp="BTC/USDT:USDT"\nstrategy="basis"\n'
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert any(
        p.startswith("hedges[1].spot_asset: basis trades all BTC") for p in err.value.problems
    )


def test_portfolio_needs_no_spot_asset_or_perp():
    text = (
        '[[hedges]]\nname="basket"\nstrategy="portfolio"\n[hedges.params]\n'
        'assets=["BTC","ETH"]\nperps=["BTC/USDT:USDT"]\n'
    )
    assert parse_config(text).hedges[0].strategy == "portfolio"


def test_empty_variables_mean_unset_as_compose_and_env_example_write_them(monkeypatch):
    for name in (
        "HEDGEBOT_CONFIG",
        "HEDGEBOT_VENUE_URL",
        "HEDGEBOT_API_KEY",
        "HEDGEBOT_API_SECRET",
        "HEDGEBOT_KILL_SWITCH_FILE",
    ):
        monkeypatch.setenv(name, "")
    rt = load_runtime()
    assert rt.config is None and rt.venue_url is None and rt.api_key is None
    assert rt.kill_switch_file is None


def test_env_example_as_a_dotenv_file_loads(tmp_path, monkeypatch):
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    for key in list(__import__("os").environ):
        if key.startswith("HEDGEBOT_"):
            monkeypatch.delenv(key)
    rt = load_runtime()
    assert rt.mode == "paper" and rt.config is None and rt.venue_url is None
    assert load_config_file(rt.config).hedges  # the embedded demo


def _risk(lines: str, ratio: str = "1") -> str:
    return (
        f"[risk]\n{lines}\n"
        '[[hedges]]\nname = "btc"\nspot_asset = "BTC"\nperp = "BTC/USDT:USDT"\n'
        f"[hedges.params]\nratio = {ratio}\n"
    )


def test_a_fired_stop_rehedges_by_default_and_halt_on_stop_fill_still_reads():
    assert parse_config(_risk("")).risk.on_stop_fill == "rehedge"
    assert parse_config(_risk('on_stop_fill = "halt"')).risk.on_stop_fill == "halt"
    assert parse_config(_risk("halt_on_stop_fill = true")).risk.on_stop_fill == "halt"
    assert parse_config(_risk("halt_on_stop_fill = false")).risk.on_stop_fill == "rehedge"
    with pytest.raises(ConfigError, match="halt_on_stop_fill = true contradicts"):
        parse_config(_risk('halt_on_stop_fill = true\non_stop_fill = "rehedge"'))
    with pytest.raises(ConfigError, match=r"risk\.on_stop_fill"):
        parse_config(_risk('on_stop_fill = "panic"'))


def test_config_warnings_name_ratios_above_the_overhedge_cap_and_deprecated_keys():
    assert config_warnings(parse_config(_risk(""))) == []
    (line,) = config_warnings(parse_config(_risk("max_overhedge = 1.05", ratio="1.2")))
    assert line.startswith("hedges[0].params: strategy direct may ask for a ratio up to 1.2")
    assert "max_overhedge = 1.05" in line
    cross = (
        '[[hedges]]\nname = "x"\nspot_asset = "ETH"\nperp = "BTC/USDT:USDT"\nstrategy = "cross"\n'
        "[hedges.params]\nmax_beta = 1.5\n"
    )
    assert "up to 1.5" in config_warnings(parse_config(cross))[0]
    old = config_warnings(parse_config(_risk("halt_on_stop_fill = true\nstop_loss_distance = 0.1")))
    assert [w.split(":")[0] for w in old] == ["risk.halt_on_stop_fill", "risk.stop_loss_distance"]


def test_check_config_prints_the_warnings(tmp_path):
    path = tmp_path / "hedgebot.toml"
    path.write_text(_risk("max_overhedge = 1.05", ratio="1.2"))
    # this checkout's code, whatever is installed (the cwd is tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = _cli("check-config", "--config", str(path), cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "warning: hedges[0].params: strategy direct may ask for a ratio up to 1.2" in proc.stdout
