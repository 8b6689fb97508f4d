"""Parsing kubeadm's join command and certificate key, from samples of real output."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealer.errors import KubeError
from sealer.kube.joinparse import parse_certificate_key, parse_join_command

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_print_join_command() -> None:
    join = parse_join_command(fixture("token-create-print-join-command.txt"))
    assert join.api_server_endpoint == "apiserver.cluster.local:6443"
    assert join.token == "9a08jv.c0izixklcxtmnze7"
    assert join.ca_cert_hashes == (
        "sha256:0d7b6f8e5a2c4b1e3f9d8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e",
    )
    assert not join.control_plane and join.certificate_key is None


def test_print_join_command_after_klog_warnings() -> None:
    join = parse_join_command(fixture("token-create-with-klog.txt"))
    assert join.api_server_endpoint == "10.0.0.11:6443"
    assert join.token == "abcdef.0123456789abcdef"


def test_init_output_with_continuation_lines_and_control_plane() -> None:
    join = parse_join_command(fixture("init-output-tail.txt"), "kubeadm init")
    assert join.control_plane
    assert join.token == "5didvk.d09sbcov8ph2amjw"
    assert join.certificate_key is not None and len(join.certificate_key) == 64
    assert join.ca_cert_hashes[0].startswith("sha256:6dd2a4a2")


def test_equals_form_and_several_hashes() -> None:
    h1, h2 = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    join = parse_join_command(
        f"kubeadm join 10.1.1.1:6443 --token=abcdef.0123456789abcdef "
        f"--discovery-token-ca-cert-hash={h1} --discovery-token-ca-cert-hash {h2}\n"
    )
    assert join.ca_cert_hashes == (h1, h2)


def test_secrets_stay_out_of_repr() -> None:
    join = parse_join_command(fixture("init-output-tail.txt"))
    assert "5didvk" not in repr(join)
    assert join.certificate_key is not None and join.certificate_key not in repr(join)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "printed no `kubeadm join` line"),
        (
            "kubeadm join 10.0.0.1:6443 --token nope --discovery-token-ca-cert-hash sha256:"
            + "a" * 64,
            "no valid --token",
        ),
        ("kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef", "no valid --discovery"),
        ("kubeadm join --token abcdef.0123456789abcdef", "no API server endpoint"),
    ],
)
def test_bad_join_output_is_reported_without_quoting_it(output: str, message: str) -> None:
    with pytest.raises(KubeError, match=message) as caught:
        parse_join_command(output)
    assert "0123456789abcdef" not in str(caught.value)


@pytest.mark.parametrize("name", ["upload-certs.txt", "upload-certs-old.txt"])
def test_certificate_key(name: str) -> None:
    key = parse_certificate_key(fixture(name))
    assert len(key) == 64 and int(key, 16) >= 0
    assert key in fixture(name)


def test_certificate_key_missing_or_malformed() -> None:
    with pytest.raises(KubeError, match="no 'Using certificate key:'"):
        parse_certificate_key("[upload-certs] Skipping phase\n")
    with pytest.raises(KubeError, match="is not a key"):
        parse_certificate_key("[upload-certs] Using certificate key:\nshort\n")
