"""Unit files: drop-ins, list resets, Environment/EnvironmentFile, $VAR vs ${VAR}."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealer_lab.emulate import units
from sealer_lab.emulate.labboot import boot_order
from sealer_lab.package import KUBEADM_DROPIN, KUBELET_SERVICE


def _install(tmp: Path) -> Path:
    d = tmp / "system"
    (d / "kubelet.service.d").mkdir(parents=True)
    (d / "kubelet.service").write_text(KUBELET_SERVICE)
    (d / "kubelet.service.d" / "10-kubeadm.conf").write_text(KUBEADM_DROPIN)
    return d


def test_kubeadm_dropin_resets_exec_start_and_expands_like_systemd(tmp_path: Path) -> None:
    d = _install(tmp_path)
    flags = tmp_path / "kubeadm-flags.env"
    flags.write_text('KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///x.sock --v=2"\n')
    unit = units.load_unit("kubelet", d)
    assert unit.exec_start == (
        "/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS "
        "$KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS",
    )
    assert unit.restart == "always" and unit.restart_sec == 10.0
    assert unit.start_limit_interval == 0.0
    assert unit.wanted_by == ("multi-user.target",)
    unit = units.Unit(**{**unit.__dict__, "environment_files": (f"-{flags}", "-/nonexistent")})
    argv, ignore = units.expand_exec(unit.exec_start[-1], units.environment(unit))
    assert not ignore
    assert argv == [
        "/usr/local/bin/kubelet",
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
        "--kubeconfig=/etc/kubernetes/kubelet.conf",
        "--config=/var/lib/kubelet/config.yaml",
        "--container-runtime-endpoint=unix:///x.sock",
        "--v=2",
    ]


def test_braced_variables_stay_in_their_word_and_missing_required_env_file_fails(
    tmp_path: Path,
) -> None:
    argv, ignore = units.expand_exec("-/bin/echo a${X}b $Y ${Z}", {"X": "1 2", "Y": "p q"})
    assert ignore
    assert argv == ["/bin/echo", "a1 2b", "p", "q", ""]
    unit = units.Unit(name="x.service", path="", environment_files=(str(tmp_path / "none"),))
    with pytest.raises(OSError):
        units.environment(unit)


def test_continuation_comments_and_unknown_unit(tmp_path: Path) -> None:
    (tmp_path / "a.service").write_text(
        "# c\n[Unit]\nAfter=b.service \\\n  c.service\n; x\n[Service]\nExecStart=/bin/true\n"
    )
    unit = units.load_unit("a", tmp_path)
    assert unit.after == ("b.service", "c.service")
    with pytest.raises(units.UnitNotFound):
        units.load_unit("missing", tmp_path)


def test_boot_order_follows_after_and_before() -> None:
    a = units.Unit(name="a.service", path="", after=("b.service",))
    b = units.Unit(name="b.service", path="")
    c = units.Unit(name="c.service", path="", before=("b.service",))
    assert boot_order([a, b, c]) == ["c.service", "b.service", "a.service"]
