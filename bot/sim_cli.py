"""`hedgebot sim`: the Bybit v5 simulator as its own process, so a venue outlives bot restarts."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

EXIT_CONFIG = 2  # as bot.cli: bad input


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--api-key", default=None, help="Key clients must sign with (default: sim default).")
@click.option("--api-secret", default=None, help="Secret (default: the documented sim default).")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=None,
    help="Replay history files (<SYMBOL>_perp_1h.csv, ...) from DIR.",
)
@click.option("--synthetic", is_flag=True, help="Use the seeded synthetic feed (the default).")
@click.option("--faults", "faults_spec", default=None, help="Fault spec, see bot/sim/faults.py.")
@click.option(
    "--ws-faults",
    "ws_faults_spec",
    default=None,
    help="Websocket fault spec (drop, silent, delay=MS), see bot/sim/faults.py.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Simulated seconds per real second; 0 keeps the clock still until POST /sim/advance.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="TOML drill of timed steps (see bot/sim/scenarios/crash_rebound.toml).",
)
def sim(
    host: str,
    port: int,
    api_key: str | None,
    api_secret: str | None,
    data_dir: Path | None,
    synthetic: bool,
    faults_spec: str | None,
    ws_faults_spec: str | None,
    speed: float,
    scenario_file: Path | None,
) -> None:
    """Run the Bybit v5 exchange simulator on loopback and print its URL."""
    from bot.sim.scenario import Scenario, ScenarioError
    from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, sim_main

    scenario = None
    try:
        if scenario_file is not None:
            scenario = Scenario.load(scenario_file)
        asyncio.run(
            sim_main(
                host=host,
                port=port,
                api_key=api_key or DEFAULT_API_KEY,
                api_secret=api_secret or DEFAULT_API_SECRET,
                data_dir=data_dir,
                synthetic=synthetic or data_dir is None,
                faults_spec=faults_spec,
                ws_faults_spec=ws_faults_spec,
                speed=speed,
                scenario=scenario,
            )
        )
    except ScenarioError as exc:
        click.echo(f"invalid scenario: {exc} (format: bot/sim/scenario.py)", err=True)
        sys.exit(EXIT_CONFIG)
