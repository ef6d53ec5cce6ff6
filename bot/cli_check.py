"""`hedgebot check-config`: every problem at once, across the settings, every layer of the TOML
file and the paths the daemon will write; `--online` also asks the venue whether every symbol
exists. `run` applies the same offline checks before it starts."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.errors import ConfigError, HedgebotError
from bot.settings import (
    FileConfig,
    HedgeSection,
    RuntimeSettings,
    _strategy_problems,
    load_runtime,
    parse_config,
    validation_lines,
)
from bot.store.db import parse_url

_ASSET = re.compile(r"^[A-Z0-9]{1,20}$")
_SYMBOL = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+(:[A-Z0-9]+)?$")


def runtime_problems(overrides: Mapping[str, Any]) -> tuple[RuntimeSettings | None, list[str]]:
    try:
        runtime = load_runtime(overrides)
    except ConfigError as exc:
        return None, exc.problems
    problems: list[str] = []
    try:
        parse_url(runtime.database_url)
    except ConfigError as exc:
        problems += exc.problems
    if runtime.heartbeat_file is not None:
        problems += _writable("HEDGEBOT_HEARTBEAT_FILE", runtime.heartbeat_file)
    return runtime, problems


def _writable(key: str, path: Path) -> list[str]:
    """Whether the daemon could create or touch ``path``, without creating anything."""
    if path.is_dir():
        return [f"{key}: {path} is a directory; name a file"]
    probe = path if path.exists() else path.parent
    while not probe.exists():  # parents the daemon would create
        probe = probe.parent
    if not probe.is_dir() and probe != path:
        return [f"{key}: cannot create {path}: {probe} is not a directory"]
    if not os.access(probe, os.W_OK):
        return [f"{key}: cannot write {path} ({probe} is not writable): choose a writable path"]
    return []


def file_problems(path: Path | None) -> tuple[FileConfig | None, list[str]]:
    """The parsed file when it is valid, and every problem found (all layers, not the first)."""
    if path is None:
        return parse_config_safe(None)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [f"config: cannot read {path}: {exc.strerror}"]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path}: not valid TOML: {exc}"]
    cfg, problems = parse_config_safe(text, str(path))
    if cfg is None:
        problems = _layers(raw)
    return cfg, problems + _case_problems(raw)


def parse_config_safe(text: str | None, source: str = "") -> tuple[FileConfig | None, list[str]]:
    from bot.settings import load_config_file

    try:
        return (parse_config(text, source) if text is not None else load_config_file(None)), []
    except ConfigError as exc:
        return None, exc.problems


def _layers(raw: dict[str, Any]) -> list[str]:
    """Field errors of every section, plus strategy errors of the hedges whose own fields are
    valid: the file's model stops at the first layer, this reports them all."""
    problems: list[str] = []
    try:
        FileConfig.model_validate({k: v for k, v in raw.items() if k != "hedges"})
    except ValidationError as exc:
        problems += validation_lines(exc)
    hedges = raw.get("hedges", [])
    if not isinstance(hedges, list):
        return [*problems, "hedges: must be an array of tables ([[hedges]])"]
    valid: list[tuple[int, HedgeSection]] = []
    for i, entry in enumerate(hedges):
        try:
            valid.append((i, HedgeSection.model_validate(entry)))
        except ValidationError as exc:
            problems += validation_lines(exc, prefix=f"hedges[{i}]")
            problems += _unknown_strategy(i, entry)
    partial = FileConfig.model_construct(hedges=[h for _, h in valid])
    for line in _strategy_problems(partial):  # indices refer to `valid`: map them back
        problems.append(
            re.sub(r"hedges\[(\d+)\]", lambda m: f"hedges[{valid[int(m[1])][0]}]", line)
        )
    return problems


def _unknown_strategy(i: int, entry: Any) -> list[str]:
    from strategies import registry

    name = entry.get("strategy", "direct") if isinstance(entry, dict) else None
    if not isinstance(name, str) or name in registry():
        return []
    return [
        f"hedges[{i}].strategy: unknown strategy {name!r} (known: {', '.join(sorted(registry()))})"
    ]


def _case_problems(raw: dict[str, Any]) -> list[str]:
    """Venue codes are upper case: `btc` would match no balance and no market. Refused with the
    spelling to use, rather than guessed."""
    problems = []
    for i, hedge in enumerate(raw.get("hedges", []) if isinstance(raw.get("hedges"), list) else []):
        if not isinstance(hedge, dict):
            continue
        asset = hedge.get("spot_asset")
        if isinstance(asset, str) and asset and not _ASSET.match(asset):
            problems.append(
                f"hedges[{i}].spot_asset: {asset!r} is not an asset code; write {asset.upper()!r}"
            )
        perp = hedge.get("perp")
        if isinstance(perp, str) and perp and not _SYMBOL.match(perp):
            problems.append(f"hedges[{i}].perp: {perp!r} is not a symbol; write {perp.upper()!r}")
        params = hedge.get("params")
        for key in ("assets", "perps"):
            values = params.get(key) if isinstance(params, dict) else None
            values = values if isinstance(values, list) else []
            bad = [v for v in values if isinstance(v, str) and v != v.upper()]
            if bad:
                problems.append(
                    f"hedges[{i}].params.{key}: {', '.join(map(repr, bad))} must be upper case"
                )
    wallet = raw.get("paper", {}).get("wallet") if isinstance(raw.get("paper"), dict) else None
    for code in wallet or {}:
        if not _ASSET.match(str(code)):
            problems.append(f"paper.wallet.{code}: not an asset code; write {str(code).upper()!r}")
    return problems


def paper_problems(cfg: FileConfig, runtime: RuntimeSettings | None) -> list[str]:
    """The replay folder of the embedded simulator: present, and holding every hedged perp."""
    data_dir = cfg.paper.data_dir
    if data_dir is None or (runtime is not None and runtime.mode != "paper"):
        return []
    if runtime is not None and runtime.venue_url:
        return []  # an external simulator: its own data
    if not data_dir.is_dir():
        where = data_dir.resolve()
        return [f"paper.data_dir: {where} is not a folder (relative paths start at {Path.cwd()})"]
    files = {p.name for p in data_dir.glob("*_perp_1h.csv")}
    if not files:
        return [f"paper.data_dir: no *_perp_1h.csv history files in {data_dir.resolve()}"]
    wanted = {h.perp for h in cfg.hedges if h.enabled and h.perp}
    missing = sorted(
        s for s in wanted if f"{s.split(':')[0].replace('/', '')}_perp_1h.csv" not in files
    )
    return [f"paper.data_dir: no history for {s} in {data_dir.resolve()}" for s in missing]


def offline_problems(
    overrides: Mapping[str, Any], config: Path | None
) -> tuple[RuntimeSettings | None, FileConfig | None, list[str]]:
    runtime, problems = runtime_problems(overrides)
    path = runtime.config if runtime is not None else (config or _env_config())
    cfg, file_lines = file_problems(path)
    problems += file_lines
    partial = cfg or _sections_only(path)
    if partial is not None:
        problems += paper_problems(partial, runtime)
    return runtime, cfg, problems


def _sections_only(path: Path | None) -> FileConfig | None:
    """The file's valid sections and hedges (for the path checks) when the whole is invalid."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, tomllib.TOMLDecodeError):
        return None
    default = FileConfig()
    parts = {k: getattr(default, k) for k in FileConfig.model_fields}
    for key, value in raw.items():
        try:
            parts[key] = getattr(FileConfig.model_validate({key: value}), key)
        except (ValidationError, AttributeError):
            continue
    return FileConfig.model_construct(**parts)


def _env_config() -> Path | None:
    value = os.environ.get("HEDGEBOT_CONFIG")
    return Path(value) if value else None


def symbols_of(cfg: FileConfig) -> list[str]:
    """Every symbol the enabled hedges trade or read."""
    from strategies import registry

    reg = registry()
    out: set[str] = set()
    for hedge in cfg.hedges:
        cls = reg.get(hedge.strategy)
        if not hedge.enabled or cls is None:
            continue
        strategy = cls.from_spec(hedge.to_spec())
        out |= set(strategy.symbols_read(cfg.bot.quote))
        out.update(getattr(strategy.params, "perps", ()) or ())
    return sorted(out)


async def online_problems(runtime: RuntimeSettings, cfg: FileConfig) -> list[str]:
    """Load the venue's markets (the embedded simulator in paper mode) and check every symbol."""
    from bot.app import build_port

    closers: list[Any] = []
    try:
        port, _clock = await build_port(runtime, cfg, closers)
        markets = await port.load_markets()
    except HedgebotError as exc:
        return [f"venue: cannot load markets: {exc}"]
    finally:
        for closer in reversed(closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result
    return [
        f"{symbol}: no such market on {runtime.venue} ({runtime.mode})"
        for symbol in symbols_of(cfg)
        if symbol not in markets
    ]


def heartbeat_writable(path: Path | None) -> None:
    """Create the heartbeat's folder and prove a file can be written there, without touching the
    heartbeat itself (its age is what `hedgebot health` reads)."""
    if path is None:
        return
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "Permission denied")
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".heartbeat-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            [
                f"HEDGEBOT_HEARTBEAT_FILE: cannot write {path}: {exc.strerror or exc}; choose a "
                "writable path (or create the folder with the daemon's user as owner)"
            ]
        ) from None
