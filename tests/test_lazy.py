"""sealer/lazy.py: a package's names imported on first use, and a clear error for others."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from sealer.lazy import lazy_exports

LAZY_PACKAGES = ("sealer.certops", "sealer.connect", "sealer.engine", "sealer.kube", "sealer.lock")


def test_a_name_is_read_from_its_home_module() -> None:
    getattr_ = lazy_exports("pkg", {"join": "os.path", "sep": "os"})
    assert getattr_("join") is importlib.import_module("os.path").join
    with pytest.raises(AttributeError, match="module 'pkg' has no attribute 'nope'"):
        getattr_("nope")


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_exported_name_resolves_and_nothing_is_imported_before(package: str) -> None:
    # In a fresh interpreter: importing the package loads none of the modules its names live
    # in (they load when a name is read), and every name in __all__ resolves.
    code = (
        "import importlib, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "before = {m for m in sys.modules if m.startswith(pkg.__name__ + '.')}\n"
        "for name in pkg.__all__:\n"
        "    getattr(pkg, name)\n"
        "after = {m for m in sys.modules if m.startswith(pkg.__name__ + '.')}\n"
        "print(len(before), len(after))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split())
    assert after > before
