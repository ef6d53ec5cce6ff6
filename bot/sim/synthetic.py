"""A seeded synthetic price feed: correlated geometric Brownian motion with jumps, a perp basis and
a mostly positive funding rate.

Determinism: the path is a grid of points ``origin + k * step`` for every integer k (so history
exists before the origin too). The random draws for the increments of a block of CHUNK steps come
from a generator seeded with (seed, block), and the levels are accumulated outward from the origin
block by block and cached, so a point's price depends only on the seed and its time, never on the
order of queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from bot.domain import Bar
from bot.sim.bars import (
    EPOCH,
    FUNDING_INTERVAL,
    ceil_time,
    check_timeframe,
    floor_time,
    grid_offset,
)
from bot.sim.feed_base import BarKind, PricePoint

CHUNK = 1024
FUNDING_CHUNK = 256
YEAR = timedelta(days=365)
DEFAULT_ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)
RATE_QUANTUM = Decimal("0.00000001")
_PRICE_STREAM, _FUNDING_STREAM = 1, 2


def _encode(block: int) -> int:
    """SeedSequence entropy must be non-negative: interleave negative and positive blocks."""
    return 2 * block if block >= 0 else -2 * block - 1


@dataclass(frozen=True, slots=True)
class _Block:
    log_spot: np.ndarray  # (CHUNK, n) log spot price at each point of the block
    first_increment: np.ndarray  # (n,) log change from the previous point to the block's first
    basis_z: np.ndarray  # (CHUNK, n)
    wick: np.ndarray  # (CHUNK, n, 2) non-negative
    volume_z: np.ndarray  # (CHUNK, n)


class SyntheticFeed:
    def __init__(
        self,
        assets: Mapping[str, Decimal | int | str],
        *,
        seed: int = 7,
        origin: datetime = DEFAULT_ORIGIN,
        step: timedelta = timedelta(minutes=1),
        vol_annual: float | Mapping[str, float] = 0.6,
        drift: float = 0.0,
        jump_prob: float = 0.0002,
        jump_scale: float = 0.02,
        correlation: float | Sequence[Sequence[float]] = 0.8,
        basis_bps: float = 5.0,
        basis_noise_bps: float = 2.0,
        funding_mean: float = 0.0001,
        funding_vol: float = 0.00008,
        tick: Decimal | Mapping[str, Decimal] = Decimal("0.01"),
        volume_usd_per_hour: float = 5e6,
    ) -> None:
        if not assets:
            raise ValueError("at least one asset is needed")
        self._bases = tuple(assets)
        n = len(self._bases)
        self._start = np.log(np.array([float(Decimal(str(assets[b]))) for b in self._bases]))
        self._seed = seed
        self._step = step
        self._origin = floor_time(origin, step)
        dt = step / YEAR
        vols = np.array(
            [
                vol_annual.get(b, 0.6) if isinstance(vol_annual, Mapping) else vol_annual
                for b in self._bases
            ]
        )
        self._sigma = vols * np.sqrt(dt)
        self._mu = (drift - 0.5 * vols**2) * dt
        self._chol = np.linalg.cholesky(_correlation_matrix(correlation, n))
        self._jump_prob, self._jump_scale = jump_prob, jump_scale
        self._basis, self._basis_noise = basis_bps / 1e4, basis_noise_bps / 1e4
        self._funding_mean, self._funding_vol = funding_mean, funding_vol
        self._ticks = {
            b: (tick.get(b, Decimal("0.01")) if isinstance(tick, Mapping) else tick)
            for b in self._bases
        }
        self._volume_usd = volume_usd_per_hour * (step / timedelta(hours=1))
        self._blocks: dict[int, _Block] = {}
        self._funding_blocks: dict[int, np.ndarray] = {}

    @property
    def bases(self) -> tuple[str, ...]:
        return self._bases

    @property
    def resolution(self) -> timedelta:
        return self._step

    @property
    def origin(self) -> datetime:
        return self._origin

    # ---- path -------------------------------------------------------------------------------
    def _draw(self, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self._seed, _PRICE_STREAM, _encode(block)])
        n = len(self._bases)
        z = rng.standard_normal((CHUNK, n)) @ self._chol.T
        jumps = (
            (rng.random(CHUNK) < self._jump_prob) * rng.standard_normal(CHUNK) * self._jump_scale
        )
        increments = self._mu + self._sigma * z + jumps[:, None]
        basis_z = rng.standard_normal((CHUNK, n))
        wick = np.abs(rng.standard_normal((CHUNK, n, 2)))
        volume_z = rng.standard_normal((CHUNK, n))
        return increments, basis_z, wick, volume_z

    def _block(self, block: int) -> _Block:
        cached = self._blocks.get(block)
        if cached is not None:
            return cached
        # Accumulate outward from block 0 so each level is computed in one fixed order.
        if block > 0:
            self._block(block - 1)
        elif block < 0:
            self._block(block + 1)
        increments, basis_z, wick, volume_z = self._draw(block)
        if block >= 0:
            before = (
                self._start - increments[0] if block == 0 else self._blocks[block - 1].log_spot[-1]
            )
            log_spot = before + np.cumsum(increments, axis=0)
        else:
            after = self._blocks[block + 1]
            tail = np.vstack([increments[1:], after.first_increment[None, :]])
            log_spot = after.log_spot[0] - np.cumsum(tail[::-1], axis=0)[::-1]
        made = _Block(log_spot, increments[0], basis_z, wick, volume_z)
        self._blocks[block] = made
        return made

    def _arrays(self, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """log_spot, basis_z, wick, volume_z for points k0 <= k < k1."""
        parts: list[tuple[np.ndarray, ...]] = []
        k = k0
        while k < k1:
            block, i = divmod(k, CHUNK)
            j = min(CHUNK, i + (k1 - k))
            b = self._block(block)
            parts.append((b.log_spot[i:j], b.basis_z[i:j], b.wick[i:j], b.volume_z[i:j]))
            k += j - i
        if not parts:
            n = len(self._bases)
            return np.empty((0, n)), np.empty((0, n)), np.empty((0, n, 2)), np.empty((0, n))
        return tuple(np.concatenate([p[m] for p in parts]) for m in range(4))  # type: ignore[return-value]

    def _index(self, at: datetime) -> int:
        return (at - self._origin) // self._step

    def _series(self, kind: BarKind, log_spot: np.ndarray, basis_z: np.ndarray) -> np.ndarray:
        spot = np.exp(log_spot)
        if kind == "spot":
            return spot
        if kind == "mark":
            return spot * (1 + self._basis)
        return spot * (1 + self._basis + self._basis_noise * basis_z)

    # ---- PriceFeed ----------------------------------------------------------------------------
    def prices(self, at: datetime) -> Mapping[str, PricePoint]:
        k = self._index(at)
        log_spot, basis_z, _, _ = self._arrays(k, k + 1)
        spot = self._series("spot", log_spot, basis_z)[0]
        perp = self._series("perp", log_spot, basis_z)[0]
        mark = self._series("mark", log_spot, basis_z)[0]
        settled = floor_time(at, FUNDING_INTERVAL)
        return {
            base: PricePoint(
                spot=self._price(spot[i], base),
                perp=self._price(perp[i], base),
                mark=self._price(mark[i], base),
                funding_rate=self.funding_rate(base, settled),
            )
            for i, base in enumerate(self._bases)
        }

    def funding_rate(self, base: str, settlement: datetime) -> Decimal:
        index = (settlement - EPOCH) // FUNDING_INTERVAL
        block, i = divmod(index, FUNDING_CHUNK)
        draws = self._funding_blocks.get(block)
        if draws is None:
            rng = np.random.default_rng([self._seed, _FUNDING_STREAM, _encode(block)])
            draws = rng.standard_normal((FUNDING_CHUNK, len(self._bases)))
            self._funding_blocks[block] = draws
        rate = self._funding_mean + self._funding_vol * draws[i, self._bases.index(base)]
        return Decimal(repr(float(rate))).quantize(RATE_QUANTUM, ROUND_HALF_EVEN)

    def change_times(self, after: datetime, until: datetime) -> list[datetime]:
        first, last = self._index(after) + 1, self._index(until)
        return [self._origin + k * self._step for k in range(first, last + 1)]

    def bars(
        self, base: str, kind: BarKind, start: datetime, end: datetime, timeframe: timedelta
    ) -> list[Bar]:
        check_timeframe(timeframe, self._step)
        k0 = -(-(ceil_time(start, timeframe) - self._origin) // self._step)
        k1 = self._index(end)  # base bar k closes at point k + 1, which must be known by ``end``
        if k1 <= k0:
            return []
        col = self._bases.index(base)
        log_spot, basis_z, wick, volume_z = self._arrays(k0, k1 + 1)
        values = self._series(kind, log_spot[:, col], basis_z[:, col])
        opens, closes = values[:-1], values[1:]
        spread = 0.0 if kind == "mark" else 0.5 * self._sigma[col]
        highs = np.maximum(opens, closes) * (1 + spread * wick[:-1, col, 0])
        lows = np.minimum(opens, closes) * (1 - spread * wick[:-1, col, 1])
        usd = 0.0 if kind == "mark" else self._volume_usd
        volumes = usd / np.exp(log_spot[:-1, col]) * np.exp(0.5 * volume_z[:-1, col] - 0.125)
        ks = np.arange(k0, k1)
        offset = self._origin - EPOCH - grid_offset(timeframe)
        groups = (ks * (self._step / timedelta(seconds=1)) + offset.total_seconds()) // (
            timeframe.total_seconds()
        )
        _, first = np.unique(groups, return_index=True)
        last = np.append(first[1:], len(ks)) - 1
        return [
            Bar(
                ts=floor_time(self._origin + int(ks[a]) * self._step, timeframe),
                open=self._price(opens[a], base),
                high=self._price(np.max(highs[a : b + 1]), base),
                low=self._price(np.min(lows[a : b + 1]), base),
                close=self._price(closes[b], base),
                volume=Decimal(repr(round(float(np.sum(volumes[a : b + 1])), 6))),
            )
            for a, b in zip(first, last, strict=True)
        ]

    def funding_history(
        self, base: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, Decimal]]:
        out = []
        t = ceil_time(start, FUNDING_INTERVAL)
        while t <= end:
            out.append((t, self.funding_rate(base, t)))
            t += FUNDING_INTERVAL
        return out

    def _price(self, value: float, base: str) -> Decimal:
        tick = self._ticks[base]
        return max(tick, Decimal(repr(float(value))).quantize(tick, ROUND_HALF_EVEN))


def _correlation_matrix(correlation: float | Sequence[Sequence[float]], n: int) -> np.ndarray:
    if isinstance(correlation, int | float):
        matrix = np.full((n, n), float(correlation))
        np.fill_diagonal(matrix, 1.0)
    else:
        matrix = np.array(correlation, dtype=float)
        if matrix.shape != (n, n):
            raise ValueError(f"correlation matrix must be {n}x{n}")
    if not np.allclose(matrix, matrix.T) or not np.allclose(np.diag(matrix), 1.0):
        raise ValueError("correlation matrix must be symmetric with a unit diagonal")
    if np.any(np.linalg.eigvalsh(matrix) <= 0):
        raise ValueError("correlation matrix must be positive definite")
    return matrix
