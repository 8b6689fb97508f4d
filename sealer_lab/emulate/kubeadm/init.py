"""``kubeadm init``: the phases of real kubeadm, in its order, each skippable by name."""

from __future__ import annotations

import contextlib

from sealer_lab.emulate import pki, yamlio
from sealer_lab.emulate.kubeadm import (
    apiobjects,
    certs,
    kubeconfigs,
    kubeletphase,
    manifests,
    preflight,
)
from sealer_lab.emulate.kubeadm.common import ca_hash, join_command, local_client, say
from sealer_lab.emulate.kubeadm.errors import KubeadmError, PhaseError
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, MANIFESTS, Settings
from sealer_lab.emulate.kubeapi import ApiError, Client

__all__ = ["run_init"]

PHASES = (
    "preflight",
    "certs",
    "kubeconfig",
    "etcd",
    "control-plane",
    "kubelet-start",
    "wait-control-plane",
    "upload-config",
    "upload-certs",
    "mark-control-plane",
    "bootstrap-token",
    "kubelet-finalize",
    "addon",
    "show-join-command",
)


#: What kubeadm prints instead of a secret under --skip-token-print/--skip-certificate-key-print
#: (cmd/kubeadm/app/cmd/util/join.go).
WITHHELD = "<value withheld>"


def run_init(
    s: Settings,
    *,
    upload_certs: bool,
    timeout: float = 240.0,
    skip_token_print: bool = False,
    skip_certificate_key_print: bool = False,
) -> int:
    for phase in s.skip_phases:
        top = phase.split("/")[0]
        if top not in PHASES:
            raise KubeadmError(f'invalid phase name "{phase}"')
    local_etcd = not s.etcd_external
    say(f"[init] Using Kubernetes version: {s.version}")
    if not s.skipped("preflight"):
        say(preflight.run_checks(s, preflight.control_plane_checks(s, local_etcd)))
        say(
            [
                "[preflight] Pulling images required for setting up a Kubernetes cluster",
                "[preflight] This might take a minute or two, depending on the speed of your "
                "internet connection",
                "[preflight] You can also perform this action in beforehand using 'kubeadm config "
                "images pull'",
            ]
        )
    if not s.skipped("certs"):
        say(certs.ensure_certs(s, local_etcd=local_etcd))
    if not s.skipped("kubeconfig"):
        say(kubeconfigs.ensure_kubeconfigs(s, kubelet=True))
    if local_etcd and not s.skipped("etcd"):
        path = manifests.write_manifest("etcd", manifests.etcd_manifest(s))
        say(f'[etcd] Creating static Pod manifest for local etcd in "{path.parent}"')
    if not s.skipped("control-plane"):
        say(f'[control-plane] Using manifest folder "{MANIFESTS}"')
        for name, manifest in manifests.control_plane_manifests(s).items():
            say(f'[control-plane] Creating static Pod manifest for "{name}"')
            manifests.write_manifest(name, manifest)
    kubelet_cfg = kubeletphase.kubelet_config(s)
    if not s.skipped("kubelet-start"):
        say(kubeletphase.write_kubelet_files(s, kubelet_cfg))
        say(kubeletphase.restart_kubelet())
    client = local_client(s)
    if not s.skipped("wait-control-plane"):
        say(
            "[wait-control-plane] Waiting for the kubelet to boot up the control plane as "
            f'static Pods from directory "{MANIFESTS}". This can take up to '
            f"{int(timeout // 60)}m{int(timeout % 60)}s"
        )
        try:
            took = apiobjects.wait_healthy(client, timeout)
        except ApiError as exc:
            raise PhaseError(
                "wait-control-plane",
                f"couldn't initialize a Kubernetes cluster\n(last error: {exc.message})",
            ) from None
        say(f"[apiclient] All control plane components are healthy after {took:.6f} seconds")
    if s.version.minor >= 29:
        try:
            super_admin = local_client(s, KUBE_DIR / "super-admin.conf")
            apiobjects.ensure_admin_binding(client, super_admin)
        except ApiError as exc:
            raise PhaseError(
                "upload-config", f"could not bootstrap the admin user: {exc.message}"
            ) from None
    try:
        if not s.skipped("upload-config"):
            say(apiobjects.upload_config(client, s, kubelet_cfg))
        key = ""
        if upload_certs and not s.skipped("upload-certs"):
            key = s.certificate_key or apiobjects.generate_certificate_key()
            uploaded = apiobjects.upload_certs(client, s, key)
            say(uploaded[:1] if skip_certificate_key_print else uploaded)
        else:
            say("[upload-certs] Skipping phase. Please see --upload-certs")
        if not s.skipped("mark-control-plane"):
            say(apiobjects.mark_control_plane(client, s))
        tokens: list[str] = []
        if not s.skipped("bootstrap-token"):
            lines, tokens = apiobjects.bootstrap_token_phase(client, s)
            if not skip_token_print:
                lines = [f"[bootstrap-token] Using token: {tokens[0]}", *lines]
            say(lines)
        if not s.skipped("kubelet-finalize"):
            say(
                '[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a '
                "rotatable kubelet client certificate and key"
            )
        addons(client, s)
    except ApiError as exc:
        raise KubeadmError(f"error execution phase upload-config: {exc.message}") from None
    say("")
    say("Your Kubernetes control-plane has initialized successfully!")
    if not s.skipped("show-join-command"):
        token = tokens[0] if tokens else "<token>"
        say(
            success_text(
                s,
                WITHHELD if skip_token_print else token,
                WITHHELD if skip_certificate_key_print and key else key,
            )
        )
    return 0


def addons(client: object, s: Settings) -> None:
    assert isinstance(client, Client)
    if not s.skipped("addon/coredns"):
        with contextlib.suppress(ApiError):
            client.apply(
                "/api/v1/namespaces/kube-system/configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "coredns", "namespace": "kube-system"},
                    "data": {
                        "Corefile": f".:53 {{\n    errors\n    health\n    kubernetes "
                        f"{s.dns_domain} in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf"
                        "\n    cache 30\n}\n"
                    },
                },
            )
        say("[addons] Applied essential addon: CoreDNS")
    if not s.skipped("addon/kube-proxy"):
        proxy = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clusterCIDR": s.pod_subnet,
            **s.kube_proxy_config,
        }
        with contextlib.suppress(ApiError):
            client.apply(
                "/api/v1/namespaces/kube-system/configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "kube-proxy",
                        "namespace": "kube-system",
                        "labels": {"app": "kube-proxy"},
                    },
                    "data": {"config.conf": yamlio.dump(proxy)},
                },
            )
        say("[addons] Applied essential addon: kube-proxy")


def success_text(s: Settings, token: str, key: str) -> str:
    h = ca_hash(s.cert_dir)
    endpoint = s.endpoint()
    text = """
To start using your cluster, you need to run the following as a regular user:

  mkdir -p $HOME/.kube
  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config
  sudo chown $(id -u):$(id -g) $HOME/.kube/config

Alternatively, if you are the root user, you can run:

  export KUBECONFIG=/etc/kubernetes/admin.conf

You should now deploy a pod network to the cluster.
Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:
  https://kubernetes.io/docs/concepts/cluster-administration/addons/
"""
    if s.control_plane_endpoint:
        text += f"""
You can now join any number of the control-plane node running the following command on each as root:

  {join_command(endpoint, token, h, control_plane=True, key=key)}
"""
        if key:
            text += """
Please note that the certificate-key gives access to cluster sensitive data, keep it secret!
As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use
"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.
"""
    text += f"""
Then you can join any number of worker nodes by running the following on each as root:

{join_command(endpoint, token, h)}"""
    return text


_ = (KUBE_DIR, pki)
