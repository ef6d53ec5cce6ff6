"""`--compare`: several configurations over the same data, side by side.

A name derives a variant from the given configuration (same wallet, limits and hedged assets):

- ``config``: the file as it is;
- ``unhedged``: no short at all (every hedge at ratio 0), the baseline;
- ``direct`` / ``dynamic`` / ``funding``: every hedge with that strategy on its own asset's perp,
  default parameters;
- ``cross``: the first hedge's asset hedged directly, every other asset cross-hedged with the
  first hedge's perp (rolling beta);
- a path to a ``.toml`` file: that configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.settings import FileConfig, load_config_file

NAMES = ("config", "unhedged", "direct", "dynamic", "funding", "cross")


def _own_perp(asset: str, quote: str) -> str:
    return f"{asset}/{quote}:{quote}"


def variant(config: FileConfig, name: str) -> FileConfig:
    if name.endswith(".toml"):
        return load_config_file(Path(name))
    if name not in NAMES:
        raise ConfigError(
            [f"--compare: unknown {name!r}; use {', '.join(NAMES)} or a path to a .toml file"]
        )
    if name == "config":
        return config
    quote = config.bot.quote
    raw: dict[str, Any] = config.model_dump(mode="python")
    hedges = [h for h in raw["hedges"] if h["spot_asset"]]
    if not hedges:
        raise ConfigError([f"--compare {name}: the configuration hedges no spot asset"])
    reference = hedges[0]
    for h in hedges:
        h["perp"] = _own_perp(h["spot_asset"], quote)
        h["enabled"] = True
        if name == "unhedged":
            h["strategy"], h["params"] = "direct", {"ratio": 0}
        elif name == "cross" and h is not reference:
            h["strategy"], h["params"] = "cross", {}
            h["perp"] = _own_perp(reference["spot_asset"], quote)
        elif name == "cross":
            h["strategy"], h["params"] = "direct", {}
        else:
            h["strategy"], h["params"] = name, {}
    raw["hedges"] = hedges
    return FileConfig.model_validate(raw)


def variants(config: FileConfig, spec: str) -> list[tuple[str, FileConfig]]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise ConfigError(["--compare: give names separated by commas, e.g. unhedged,direct"])
    if len(set(names)) != len(names):
        raise ConfigError([f"--compare: a name is repeated in {spec!r}"])
    return [(Path(n).stem if n.endswith(".toml") else n, variant(config, n)) for n in names]
