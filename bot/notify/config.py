"""The `[alerts]` section of hedgebot.toml: when an alert is sent. Where to is
``HEDGEBOT_NOTIFY_URLS`` (a secret: tokens live in those URLs)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class AlertsSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # a short without a resting stop-loss, or a hedge outside its rebalance band, for this long
    unprotected_after_seconds: float = Field(default=300.0, ge=0)
    outside_band_after_seconds: float = Field(default=900.0, ge=0)
    # nearest liquidation closer than this fraction of the mark: alerted at start-up, then at
    # most once a day while it lasts
    liquidation_distance: Decimal = Field(default=Decimal("0.25"), ge=0, lt=1)
    # this many cycles in a row skipped or failed (venue reads failing)
    venue_failures: int = Field(default=3, ge=1)
    # the daily summary (hedge ratios, funding received, fees) goes out at this UTC hour
    daily_summary: bool = True
    daily_summary_hour: int = Field(default=0, ge=0, le=23)
    send_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
