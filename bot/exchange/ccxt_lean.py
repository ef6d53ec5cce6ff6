"""ccxt without importing every exchange (issue 10.5: fast start).

The ``__init__`` of ``ccxt``, ``ccxt.async_support`` and ``ccxt.pro`` imports every one of
ccxt's ~100 exchange classes (``from ccxt.X import X``, generated, one line each): importing
``ccxt.async_support`` for the one class the bot uses was about half of a paper start's CPU.
``install()`` (called by ``bot.exchange``) adds an import hook that runs those three files without
those lines; an exchange is imported when first asked for (``ccxt_async.bybit``,
``hasattr(ccxt_async, "binance")``), and the package attribute is the class, as with the full
import. Everything else in the files (errors, ``Exchange``, ``exchanges``) runs as written. If
ccxt is imported before the hook, or its files change shape, the full import happens: slower,
the same behaviour."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGES = ("ccxt", "ccxt.async_support", "ccxt.pro")
_EXCHANGE_LINE = re.compile(r"^from ([\w.]+)\.(\w+) import (\w+)\s*(#.*)?$")


class _LeanPackage(ModuleType):
    """A ccxt package whose exchange classes load on first use."""

    _lazy: frozenset[str]

    def __getattr__(self, name: str) -> Any:
        if name not in self.__dict__.get("_lazy", ()):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        importlib.import_module(f"{self.__name__}.{name}")  # binds the class (__setattr__)
        return self.__dict__[name]

    def __setattr__(self, name: str, value: Any) -> None:
        # the import system binds a loaded submodule to its package; the full __init__ binds
        # the exchange's class under that name instead
        if name in self.__dict__.get("_lazy", ()) and isinstance(value, ModuleType):
            value = getattr(value, name, value)
        super().__setattr__(name, value)


class _LeanLoader(importlib.abc.Loader):
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        source = Path(self.origin).read_text(encoding="utf-8")
        kept, lazy = [], set()
        for line in source.splitlines():
            found = _EXCHANGE_LINE.match(line)
            if found and found.group(1) == module.__name__ and found.group(2) == found.group(3):
                lazy.add(found.group(2))
            else:
                kept.append(line)
        module.__class__ = _LeanPackage
        module.__dict__["_lazy"] = frozenset(lazy)
        try:
            exec(compile("\n".join(kept) + "\n", self.origin, "exec"), module.__dict__)
        except NameError:
            # a kept line uses an exchange class (a ccxt of another shape): the file as written
            module.__class__ = ModuleType
            del module.__dict__["_lazy"]
            exec(compile(source, self.origin, "exec"), module.__dict__)


class _LeanFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.origin.endswith("__init__.py"):
            return spec
        spec.loader = _LeanLoader(spec.origin)
        return spec


def install() -> None:
    if not any(isinstance(f, _LeanFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _LeanFinder())
