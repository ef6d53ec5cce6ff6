"""Strategy registry: built-ins plus any package exposing the entry-point group
``hedgebot.strategies``."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from importlib.metadata import entry_points
from typing import Any

from strategies.base import Strategy
from strategies.basis import BasisTrade
from strategies.cross import CrossHedge
from strategies.direct import DirectHedge
from strategies.dynamic import DynamicHedge
from strategies.funding import FundingAwareHedge
from strategies.portfolio import PortfolioHedge

ENTRY_POINT_GROUP = "hedgebot.strategies"

_BUILTINS: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        DirectHedge,
        CrossHedge,
        DynamicHedge,
        FundingAwareHedge,
        BasisTrade,
        PortfolioHedge,
    )
}


def builtin_names() -> tuple[str, ...]:
    return tuple(_BUILTINS)


def _discover() -> tuple[dict[str, type[Strategy]], dict[str, str]]:
    found = dict(_BUILTINS)
    errors: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not take the built-ins down with it
            errors[ep.name] = f"cannot load {ep.value}: {type(exc).__name__}: {exc}"
            continue
        if isinstance(cls, type) and issubclass(cls, Strategy):
            found[ep.name] = cls
        else:
            errors[ep.name] = f"{ep.value} is not a Strategy subclass"
    return found, errors


def registry() -> dict[str, type[Strategy]]:
    """Name -> class, built-ins first; an entry point may add names but not replace a built-in.
    Plugins that fail to load are left out (see ``plugin_errors``)."""
    return _discover()[0]


def plugin_errors() -> dict[str, str]:
    """Entry-point name -> why it was left out of the registry."""
    return _discover()[1]


def get_strategy(name: str) -> type[Strategy]:
    reg = registry()
    if name not in reg:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(reg))}")
    return reg[name]


def describe(cls: type[Strategy], name: str | None = None) -> dict[str, Any]:
    """One strategy for ``hedgebot strategies``: name, summary, origin and its parameters."""
    params = []
    for key, info in cls.Params.model_fields.items():
        required = info.is_required()
        default = None if required else info.get_default(call_default_factory=True)
        params.append(
            {
                "name": key,
                "default": _plain(default),
                "required": required,
                "type": _type_name(info.annotation),
                "constraints": _constraints(info.metadata),
                "description": info.description or "",
            }
        )
    return {
        "name": name or cls.name,
        "summary": cls.summary or (cls.__doc__ or "").strip().split("\n", 1)[0],
        "builtin": (name or cls.name) in _BUILTINS and _BUILTINS[name or cls.name] is cls,
        "source": f"{cls.__module__}:{cls.__qualname__}",
        "params": params,
    }


def describe_all() -> list[dict[str, Any]]:
    """Every registered strategy, built-ins first, in ``describe`` form."""
    return [describe(cls, name) for name, cls in registry().items()]


def _plain(value: Any) -> Any:
    """JSON- and TOML-friendly: Decimals as strings, so '0.0001' is shown as configured."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("decimal.", "")


_BOUND_SYMBOLS = {
    "ge": ">=",
    "gt": ">",
    "le": "<=",
    "lt": "<",
    "min_length": "len >=",
    "pattern": "~",
}


def _constraints(metadata: list[Any]) -> str:
    parts = []
    for item in metadata:
        for attr, symbol in _BOUND_SYMBOLS.items():
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {_plain(value)}")
    return ", ".join(parts)
