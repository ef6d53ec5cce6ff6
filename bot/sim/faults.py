"""Seeded, scriptable faults for the simulator's HTTP front.

Spec grammar (the ``--faults`` CLI option), rules separated by ``;``:

    rule     := endpoint ":" kind ["=" param] [":" when]
    endpoint := a v5 path without the "/v5/" prefix, e.g. "order/create", optionally suffixed by
                "@GET" / "@POST"; "*" matches every endpoint
    when     := N      an integer: the next N matching requests (default 1)
              | P      a fraction with a point, 0 < P <= 1: each matching request with chance P
              | "always"
    kind     := latency=MS        answer normally after MS milliseconds
              | timeout[=S]       hang S seconds (default 30, longer than a client timeout), then
                                  drop the connection
              | reset             drop the connection without answering (aiohttp clients retry
                                  an idempotent GET once by themselves: use a count of 2)
              | httpNNN           answer HTTP status NNN (5xx) with a plain-text body
              | http429           answer HTTP 429 with retCode 10006 "Too many visits!"
              | ratelimit         answer HTTP 200 with retCode 10006
              | drop_after_accept process the request (an order IS created), then drop the link
              | partial=R         the next market order of this request fills only fraction R
              | reject=CODE       answer HTTP 200 with that retCode and Bybit's usual message
    websocket kinds (the separate ``ws_faults`` spec, endpoint "public/linear", "public/spot",
    "private" or "*"; applied to the next topic message a socket would send):
              | drop              abort the socket (no close frame)
              | silent            from then on send nothing, answer no ping, never close
              | delay=MS          send that message MS milliseconds late (later ones queue)

Example: ``order/create:drop_after_accept:1;position/list:http503:0.2;*:latency=200:0.1``.
Rules are tried in order; the first that fires wins. Chances come from a seeded generator.
Python API for tests: ``faults.add("order/create", "reject", param=110007, times=1)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = (
    "latency",
    "timeout",
    "reset",
    "http",
    "http429",
    "ratelimit",
    "drop_after_accept",
    "partial",
    "reject",
    "drop",
    "silent",
    "delay",
)
WS_KINDS = ("drop", "silent", "delay")
WS_ENDPOINTS = ("private", "public/linear", "public/spot", "*")
MESSAGES = {
    10000: "Server Timeout",
    10001: "params error",
    10006: "Too many visits!",
    10016: "Internal server error.",
    110007: "ab not enough for new order",
    110017: "Reduce-only rule not satisfied",
    110072: "OrderLinkedID is duplicate",
    170131: "Insufficient balance.",
}


def normalise_endpoint(path: str) -> str:
    path = path.strip().lstrip("/")
    return path[3:] if path.startswith("v5/") else path


@dataclass
class FaultRule:
    endpoint: str  # normalised path or "*"
    kind: str
    param: float | int | None = None
    method: str | None = None
    times: int | None = 1  # remaining one-shot count; None with rate=None means always
    rate: float | None = None
    status: int | None = None  # for kind "http"

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.endpoint == "*" or self.endpoint == normalise_endpoint(path)


def front_problem(rule: FaultRule, websocket: bool) -> str | None:
    """Why a rule cannot act on this front (it would load, never fire, or fire as a no-op)."""
    if websocket:
        if rule.kind not in WS_KINDS:
            return f"{rule.kind!r} is not a websocket fault (use {', '.join(WS_KINDS)})"
        if rule.endpoint not in WS_ENDPOINTS:
            return f"{rule.endpoint!r} is not a websocket path (use {', '.join(WS_ENDPOINTS)})"
        if rule.method is not None:
            return f"@{rule.method}: websocket faults take no HTTP method"
    elif rule.kind in WS_KINDS or rule.endpoint in WS_ENDPOINTS[:-1]:
        what = "fault" if rule.kind in WS_KINDS else "path"
        name = rule.kind if rule.kind in WS_KINDS else rule.endpoint
        return f"{name!r} is a websocket {what}: give it with --ws-faults (ws_faults=...)"
    return None


@dataclass
class Faults:
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    fired: list[tuple[str, str]] = field(default_factory=list)  # (kind, path), for tests and logs
    on_fire: Callable[[FaultRule], None] | None = None  # e.g. a test's event.set
    websocket: bool = False  # the websocket front's rules (WS_KINDS on WS_ENDPOINTS)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(
        self,
        endpoint: str,
        kind: str,
        *,
        param: float | int | None = None,
        times: int | None = 1,
        rate: float | None = None,
        method: str | None = None,
    ) -> FaultRule:
        """``times``: fire on the next N matches; ``rate``: fire with that chance (then ``times``
        is ignored); both None: always."""
        rule = build_rule(endpoint, kind, param=param, times=times, rate=rate, method=method)
        self._check(rule)
        self.rules.append(rule)
        return rule

    def load(self, spec: str | None) -> None:
        rules = [parse_rule(t) for t in filter(None, (p.strip() for p in (spec or "").split(";")))]
        for rule in rules:
            self._check(rule)
        self.rules.extend(rules)

    def _check(self, rule: FaultRule) -> None:
        if (problem := front_problem(rule, self.websocket)) is not None:
            raise ValueError(problem)

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The fault to apply to this request, if any (consumes one-shot counts)."""
        for rule in self.rules:
            if not rule.matches(method, path):
                continue
            if rule.rate is not None:
                if self._rng.random() >= rule.rate:
                    continue
            elif rule.times is not None:
                if rule.times <= 0:
                    continue
                rule.times -= 1
            self.fired.append((rule.kind, normalise_endpoint(path)))
            if self.on_fire is not None:
                self.on_fire(rule)
            return rule
        return None


def build_rule(
    endpoint: str,
    kind: str,
    *,
    param: float | int | None = None,
    times: int | None = 1,
    rate: float | None = None,
    method: str | None = None,
) -> FaultRule:
    status = None
    if kind.startswith("http") and kind != "http429":
        status = int(kind[4:]) if kind[4:].isdigit() else None
        if status is None or not 500 <= status <= 599:
            raise ValueError(f"fault kind {kind!r}: use http5xx (e.g. http503) or http429")
        kind = "http"
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}")
    if kind in ("latency", "partial", "reject", "delay") and param is None:
        raise ValueError(f"fault {kind!r} needs a parameter ({kind}=...)")
    if kind == "partial" and not 0 < float(param) < 1:  # type: ignore[arg-type]
        raise ValueError("partial=R needs 0 < R < 1")
    if rate is not None and not 0 < rate <= 1:
        raise ValueError("a fault rate must be in (0, 1]")
    return FaultRule(
        endpoint="*" if endpoint == "*" else normalise_endpoint(endpoint),
        kind=kind,
        param=param,
        method=method.upper() if method else None,
        times=None if rate is not None else times,
        rate=rate,
        status=status,
    )


def parse_rule(text: str) -> FaultRule:
    """One ``endpoint:kind[=param][:when]`` rule."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"fault rule {text!r}: expected endpoint:kind[=param][:when]")
    endpoint, method = parts[0], None
    if "@" in endpoint:
        endpoint, method = endpoint.split("@", 1)
    kind, _, raw_param = parts[1].partition("=")
    param: float | int | None = None
    if raw_param:
        param = float(raw_param) if "." in raw_param else int(raw_param)
    times: int | None = 1
    rate: float | None = None
    if len(parts) == 3:
        when = parts[2].strip()
        if when == "always":
            times = None
        elif "." in when:
            rate = float(when)
        else:
            times = int(when)
    return build_rule(endpoint, kind, param=param, times=times, rate=rate, method=method)
