"""rev10: ccxt_lean promises the full import when ccxt's package files change shape. A kept line
that names an exchange class (a later ccxt listing the classes themselves, not their names)
raised NameError instead: no ccxt, no bot, after a routine upgrade."""

from __future__ import annotations

import importlib
import sys

import pytest

from bot.exchange import ccxt_lean


def _package(root, body: str) -> None:
    pkg = root / "leanpkg"
    pkg.mkdir()
    (pkg / "alpha.py").write_text("class alpha:\n    pass\n")
    (pkg / "beta.py").write_text("class beta:\n    pass\n")
    (pkg / "__init__.py").write_text(body)


@pytest.fixture
def lean(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(ccxt_lean, "PACKAGES", ("leanpkg",))
    ccxt_lean.install()
    yield tmp_path
    for name in [m for m in sys.modules if m == "leanpkg" or m.startswith("leanpkg.")]:
        del sys.modules[name]


def test_exchanges_load_when_first_asked_for(lean) -> None:
    _package(lean, "from leanpkg.alpha import alpha  # noqa\nfrom leanpkg.beta import beta\n")
    pkg = importlib.import_module("leanpkg")
    assert "leanpkg.alpha" not in sys.modules
    assert pkg.alpha.__name__ == "alpha" and "leanpkg.alpha" in sys.modules


def test_a_file_that_uses_an_exchange_class_is_imported_whole(lean) -> None:
    _package(
        lean,
        "from leanpkg.alpha import alpha  # noqa\nfrom leanpkg.beta import beta\n"
        "classes = [alpha, beta]\n",
    )
    pkg = importlib.import_module("leanpkg")
    assert [c.__name__ for c in pkg.classes] == ["alpha", "beta"]
    assert pkg.beta is pkg.classes[1]
