"""`hedgebot sim`: the Bybit v5 simulator as its own process, so a venue outlives bot restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click


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
    "--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per real second."
)
def sim(
    host: str,
    port: int,
    api_key: str | None,
    api_secret: str | None,
    data_dir: Path | None,
    synthetic: bool,
    faults_spec: str | None,
    speed: float,
) -> None:
    """Run the Bybit v5 exchange simulator on loopback and print its URL."""
    from bot.sim.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, sim_main

    asyncio.run(
        sim_main(
            host=host,
            port=port,
            api_key=api_key or DEFAULT_API_KEY,
            api_secret=api_secret or DEFAULT_API_SECRET,
            data_dir=data_dir,
            synthetic=synthetic or data_dir is None,
            faults_spec=faults_spec,
            speed=speed,
        )
    )
