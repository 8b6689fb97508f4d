"""kubeadm configuration decoding: strict warnings, type errors, API versions, flags."""

from __future__ import annotations

import pytest

from sealer_lab.emulate.kubeadm.config import decode_documents, extra_args
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.flags import BOOL, SLICE, STRING, FlagSet
from sealer_lab.emulate.kubeadm.upgrade import version_errors
from sealer_lab.emulate.versions import Version

V129 = Version(1, 29, 3)
V131 = Version(1, 31, 0)


def test_unknown_field_only_warns(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = decode_documents(
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
        "kubernetesVersion: v1.29.3\nfoo: 1\napiServer:\n  bar: x\n",
        V129,
    )
    assert cfg.cluster["kubernetesVersion"] == "v1.29.3"
    assert "foo" not in cfg.cluster
    err = capsys.readouterr().err
    assert (
        'error unmarshaling configuration schema.GroupVersionKind{Group:"kubeadm.k8s.io", '
        'Version:"v1beta3", Kind:"ClusterConfiguration"}: strict decoding error: unknown field '
        '"foo"'
    ) in err
    assert 'unknown field "apiServer.bar"' in err


def test_wrong_type_fails_with_go_json_message() -> None:
    with pytest.raises(KubeadmError) as exc:
        decode_documents(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n"
            "localAPIEndpoint:\n  bindPort: abc\n",
            V129,
        )
    assert exc.value.message == (
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go "
        "struct field APIEndpoint.localAPIEndpoint.bindPort of type int32"
    )


def test_v1beta4_needs_kubeadm_131_and_takes_extra_args_as_list() -> None:
    doc = (
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n"
        "  extraArgs:\n  - name: v\n    value: '2'\n"
    )
    with pytest.raises(KubeadmError, match='no kind "ClusterConfiguration" is registered'):
        decode_documents(doc, V129)
    cfg = decode_documents(doc, V131)
    assert extra_args(cfg.cluster["apiServer"]["extraArgs"]) == {"v": "2"}
    with pytest.raises(KubeadmError, match=r"of type \[\]v1beta4.Arg"):
        decode_documents(doc.replace("  - name: v\n    value: '2'\n", "    v: '2'\n"), V131)


def test_old_api_version_is_refused() -> None:
    with pytest.raises(KubeadmError, match="uses an old API spec"):
        decode_documents("apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n", V129)


def test_flag_errors_are_pflags() -> None:
    fs = FlagSet({"config": STRING, "upload-certs": BOOL, "skip-phases": SLICE})
    with pytest.raises(KubeadmError, match=r"^unknown flag: --foo$"):
        fs.parse(["--foo"])
    with pytest.raises(KubeadmError, match=r"^flag needs an argument: --config$"):
        fs.parse(["--config"])
    with pytest.raises(KubeadmError, match=r'invalid argument "x" for "--upload-certs" flag'):
        fs.parse(["--upload-certs=x"])
    p = fs.parse(["--config", "a.yaml", "--skip-phases=addon/kube-proxy,show-join-command", "x"])
    assert p.str("config") == "a.yaml" and p.args == ["x"]
    assert p.list("skip-phases") == ["addon/kube-proxy", "show-join-command"]


def test_upgrade_policy() -> None:
    cur = Version(1, 29, 3)
    mandatory, skippable = version_errors(cur, Version(1, 31, 0), Version(1, 31, 0))
    assert any("kubeadm can upgrade only 1 minor version at a time" in m for m in mandatory)
    mandatory, _ = version_errors(cur, Version(1, 28, 0), Version(1, 29, 3))
    assert any("Downgrades are not supported" in m for m in mandatory)
    mandatory, skippable = version_errors(cur, Version(1, 30, 1), Version(1, 30, 1))
    assert mandatory == [] and skippable == []
    mandatory, _ = version_errors(cur, Version(1, 30, 1), Version(1, 29, 3))
    assert any("higher than the kubeadm version" in m for m in mandatory)
