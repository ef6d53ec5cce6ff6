"""Settings: runtime and secrets from HEDGEBOT_* variables or .env; hedges, strategies and limits
from a TOML file (``hedgebot.toml``). Every problem is reported as one line naming its key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import HedgeSpec, frozen_map
from bot.errors import ConfigError
from bot.notify.config import AlertsSection

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/hedgebot.db"


class RuntimeSettings(BaseSettings):
    """Process-level settings. Secrets are SecretStr, so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="HEDGEBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `HEDGEBOT_CONFIG=` (as docker-compose and .env.example write it) means "not set"
        env_ignore_empty=True,
    )

    mode: Literal["paper", "testnet", "demo", "live"] = "paper"
    venue: Literal["bybit", "binance"] = "bybit"
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    api_token: SecretStr | None = None  # bearer token of the web API (`serve`, `run --serve`)
    allow_live: bool = False
    database_url: str = DEFAULT_DATABASE_URL
    config: Path | None = None
    venue_url: str | None = (
        None  # an external simulator (``hedgebot sim``) instead of the embedded one
    )
    log_json: bool = False
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    auto_migrate: bool = False
    kill_switch_file: Path | None = None
    heartbeat_file: Path | None = Path("data/heartbeat")
    notify_urls: SecretStr | None = None  # apprise URLs for alerts (bot.notify); they hold tokens


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BotSection(Strict):
    interval: float = Field(default=10.0, gt=0, le=86_400)
    quote: str = "USDT"
    # "stream": the venue's private streams start a cycle at once (README "Stream mode")
    mode: Literal["poll", "stream"] = "poll"
    stream_ping_seconds: float = Field(default=10.0, gt=0, le=60)  # silent after 2 missed pongs
    # stream mode: a cycle that set a jumped holding or a moved position aside re-reads after
    # this, not after the whole interval (README "Stream mode")
    confirm_seconds: float = Field(default=1.0, gt=0, le=60)
    # cycle and target rows older than this are deleted (hourly); 0 keeps them all (README)
    retention_days: float = Field(default=30, ge=0)


class PlannerSection(Strict):
    rebalance_band: Decimal = Field(default=Decimal("0.02"), ge=0, lt=1)
    cooldown_seconds: float = Field(default=30.0, ge=0)


class RiskSection(Strict):
    max_leverage: Decimal = Field(default=Decimal(3), gt=0, le=100)
    max_margin_ratio: Decimal = Field(default=Decimal("0.5"), gt=0, le=1)
    min_liquidation_distance: Decimal = Field(default=Decimal("0.10"), ge=0, lt=1)
    max_overhedge: Decimal = Field(default=Decimal("1.05"), ge=1, le=3)
    max_order_notional: Decimal = Field(default=Decimal(250_000), gt=0)
    max_orders_per_minute: int = Field(default=30, gt=0)
    stale_after_seconds: float = Field(default=120.0, gt=0)
    max_price_jump: Decimal = Field(default=Decimal("0.5"), gt=0)
    spot_collateral_ratio: Decimal = Field(default=Decimal("0.8"), ge=0, le=1)
    # the stop-loss guards against liquidation (see README "Stop-losses")
    stop_liquidation_buffer: Decimal = Field(default=Decimal("0.05"), gt=0, lt=1)
    stop_entry_multiple: Decimal = Field(default=Decimal(3), gt=1, le=10)
    stop_replace_tolerance: Decimal = Field(default=Decimal("0.03"), gt=0, lt=1)
    on_stop_fill: Literal["rehedge", "halt"] = "rehedge"
    stop_rehedge_cooldown_seconds: float = Field(default=600.0, ge=0, le=86_400 * 7)
    leverage: Decimal = Field(default=Decimal(2), gt=0, le=100)
    # deprecated: read for compatibility, reported by check-config
    halt_on_stop_fill: bool | None = None  # true = on_stop_fill "halt", false = "rehedge"
    stop_loss_distance: Decimal | None = Field(default=None, gt=0, lt=1)  # ignored

    @model_validator(mode="before")
    @classmethod
    def _stop_fill_alias(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("halt_on_stop_fill") is None:
            return data
        implied = "halt" if data["halt_on_stop_fill"] else "rehedge"
        given = data.get("on_stop_fill")
        if given is not None and given != implied:
            raise ValueError(
                f"halt_on_stop_fill = {str(data['halt_on_stop_fill']).lower()} contradicts "
                f"on_stop_fill = {given!r}; remove halt_on_stop_fill (deprecated)"
            )
        return {**data, "on_stop_fill": implied}


class PaperSection(Strict):
    seed: int = 7
    speed: float = Field(default=1.0, gt=0)  # simulated seconds per real second
    wallet: dict[str, Decimal] = Field(
        default_factory=lambda: {"USDT": Decimal(100_000), "BTC": Decimal(2), "ETH": Decimal(30)}
    )
    data_dir: Path | None = None  # replay history files instead of the synthetic feed


class HedgeSection(Strict):
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    spot_asset: str = ""
    perp: str = ""
    strategy: str = "direct"
    enabled: bool = True
    on_disable: Literal["keep", "close"] = "keep"
    params: dict[str, Any] = Field(default_factory=dict)

    def to_spec(self) -> HedgeSpec:
        return HedgeSpec(
            name=self.name,
            spot_asset=self.spot_asset,
            perp_symbol=self.perp,
            strategy=self.strategy,
            params=frozen_map(self.params),
            enabled=self.enabled,
            on_disable=self.on_disable,
        )


class FileConfig(Strict):
    bot: BotSection = BotSection()
    planner: PlannerSection = PlannerSection()
    risk: RiskSection = RiskSection()
    paper: PaperSection = PaperSection()
    hedges: list[HedgeSection] = Field(default_factory=list)
    alerts: AlertsSection = AlertsSection()

    @model_validator(mode="after")
    def _unique_names(self) -> FileConfig:
        names = [h.name for h in self.hedges]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"hedge names must be unique; repeated: {', '.join(dup)}")
        return self

    def specs(self) -> list[HedgeSpec]:
        return [h.to_spec() for h in self.hedges]


DEMO_CONFIG = """
# The embedded default: paper mode, 2 BTC + 30 ETH spot, each hedged 1:1 with its own perp.
[bot]
interval = 5

[[hedges]]
name = "btc"
spot_asset = "BTC"
perp = "BTC/USDT:USDT"
strategy = "direct"

[[hedges]]
name = "eth"
spot_asset = "ETH"
perp = "ETH/USDT:USDT"
strategy = "direct"
"""


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def validation_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for err in exc.errors():
        key = _loc(tuple(err["loc"]))
        if prefix:
            key = f"{prefix}.{key}" if key != "(file)" else prefix
        lines.append(f"{key}: {err['msg']}")
    return lines


def _strategy_problems(cfg: FileConfig) -> list[str]:
    from strategies import registry  # late import: strategies depend on bot.domain only

    reg = registry()
    problems: list[str] = []
    spot_users: dict[str, list[int]] = {}
    for i, hedge in enumerate(cfg.hedges):
        spot_users.setdefault(hedge.spot_asset, []).append(i)
    for i, hedge in enumerate(cfg.hedges):
        # another hedge of a basis asset would hedge the carry's spot a second time
        if hedge.strategy == "basis" and len(spot_users.get(hedge.spot_asset, [])) > 1:
            others = [f"hedges[{j}]" for j in spot_users[hedge.spot_asset] if j != i]
            problems.append(
                f"hedges[{i}].spot_asset: basis trades all {hedge.spot_asset} it buys; "
                f"{', '.join(others)} uses {hedge.spot_asset} too and would hedge it twice"
            )
        cls = reg.get(hedge.strategy)
        if cls is None:
            problems.append(
                f"hedges[{i}].strategy: unknown strategy {hedge.strategy!r}"
                f" (known: {', '.join(sorted(reg))})"
            )
            continue
        if not cls.multi_asset:
            if not hedge.spot_asset:
                problems.append(f"hedges[{i}].spot_asset: required for strategy {hedge.strategy}")
            if not hedge.perp:
                problems.append(f"hedges[{i}].perp: required for strategy {hedge.strategy}")
            elif ":" not in hedge.perp:
                problems.append(
                    f"hedges[{i}].perp: {hedge.perp!r} is not a perp symbol like 'BTC/USDT:USDT'"
                )
        try:
            cls.Params.model_validate(hedge.params)
        except ValidationError as exc:
            problems.extend(validation_lines(exc, prefix=f"hedges[{i}].params"))
    return problems


def _highest_ratio(strategy: Any) -> Decimal | None:
    bounds = getattr(strategy, "ratio_bounds", None)
    if callable(bounds):
        return Decimal(bounds()[1])
    ratio = getattr(strategy.params, "ratio", None)  # direct: one fixed ratio
    return Decimal(ratio) if ratio is not None else None


def config_warnings(cfg: FileConfig) -> list[str]:
    """What a valid configuration does that its author may not expect: one line each, naming the
    key. ``check-config`` prints them; none stops the bot."""
    from strategies import get_strategy  # late import: strategies depend on bot.domain only

    risk = cfg.risk
    lines: list[str] = []
    for i, hedge in enumerate(cfg.hedges):
        highest = _highest_ratio(get_strategy(hedge.strategy).from_spec(hedge.to_spec()))
        if highest is not None and highest > risk.max_overhedge:
            lines.append(
                f"hedges[{i}].params: strategy {hedge.strategy} may ask for a ratio up to "
                f"{highest}, above risk.max_overhedge = {risk.max_overhedge}: its orders are "
                f"trimmed to {risk.max_overhedge} x the hedged spot value"
            )
    if risk.halt_on_stop_fill is not None:
        lines.append(
            f"risk.halt_on_stop_fill: deprecated; read as on_stop_fill = {risk.on_stop_fill!r}"
        )
    if risk.stop_loss_distance is not None:
        lines.append(
            "risk.stop_loss_distance: ignored; the stop now sits risk.stop_liquidation_buffer "
            "below the liquidation price (risk.stop_entry_multiple x entry when there is none)"
        )
    return lines


def parse_config(text: str, source: str = "hedgebot.toml") -> FileConfig:
    """Parse and validate a TOML config; raises ConfigError with one line per problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    try:
        cfg = FileConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_lines(exc)) from None
    problems = _strategy_problems(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg


def load_config_file(path: Path | None) -> FileConfig:
    if path is None:
        return parse_config(DEMO_CONFIG, "embedded demo config")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"config: cannot read {path}: {exc.strerror}"]) from None
    return parse_config(text, str(path))


def load_runtime(overrides: Mapping[str, Any] | None = None) -> RuntimeSettings:
    try:
        settings = RuntimeSettings(**dict(overrides or {}))
    except ValidationError as exc:
        raise ConfigError([_env_line(line) for line in validation_lines(exc)]) from None
    if settings.mode in ("testnet", "demo", "live") and (
        settings.api_key is None or settings.api_secret is None
    ):
        raise ConfigError(
            [f"HEDGEBOT_API_KEY / HEDGEBOT_API_SECRET: required in {settings.mode} mode"]
        )
    return settings


def refuse_live_without_opt_in(settings: RuntimeSettings, confirmed: bool) -> None:
    """Mainnet needs both the setting and the command-line confirmation; say which is missing."""
    if settings.mode != "live":
        return
    missing = []
    if not settings.allow_live:
        missing.append("HEDGEBOT_ALLOW_LIVE=true")
    if not confirmed:
        missing.append("the --i-understand-live flag")
    if missing:
        raise ConfigError([f"HEDGEBOT_MODE: live trading refused; missing {' and '.join(missing)}"])


def _env_line(line: str) -> str:
    key, _, msg = line.partition(": ")
    return f"HEDGEBOT_{key.upper()}: {msg}"
