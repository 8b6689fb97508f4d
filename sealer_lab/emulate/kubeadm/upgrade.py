"""``kubeadm upgrade plan|apply|node``: version policy, certificate renewal, new manifests."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from sealer_lab.emulate import yamlio
from sealer_lab.emulate.kubeadm import apiobjects, certs, kubeconfigs, kubeletphase, manifests
from sealer_lab.emulate.kubeadm.cluster import cluster_config
from sealer_lab.emulate.kubeadm.common import admin_client, say
from sealer_lab.emulate.kubeadm.config import Config
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.settings import (
    KUBE_DIR,
    MANIFESTS,
    Settings,
    kubeadm_version,
    resolve,
)
from sealer_lab.emulate.kubeapi import ApiError, Client
from sealer_lab.emulate.versions import MINORS, Version, parse_version

__all__ = ["run_apply", "run_node", "run_plan", "version_errors"]

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")


def _manifest_flags(name: str) -> dict[str, str]:
    path = MANIFESTS / f"{name}.yaml"
    try:
        doc = yamlio.load(path.read_text()) or {}
        command = doc["spec"]["containers"][0].get("command") or []
    except (OSError, KeyError, IndexError, TypeError):
        return {}
    out = {}
    for w in command:
        if str(w).startswith("--"):
            k, _, v = str(w)[2:].partition("=")
            out[k] = v
    return out


def local_settings(cfg: Config, version: Version) -> Settings:
    api = _manifest_flags("kube-apiserver")
    etcd = _manifest_flags("etcd")
    join: dict[str, Any] = {"nodeRegistration": {}}
    if etcd.get("name"):
        join["nodeRegistration"]["name"] = etcd["name"]
    if api.get("advertise-address"):
        join["controlPlane"] = {
            "localAPIEndpoint": {
                "advertiseAddress": api["advertise-address"],
                "bindPort": int(api.get("secure-port", "6443")),
            }
        }
    cluster = dict(cfg.cluster)
    cluster["kubernetesVersion"] = str(version)
    return resolve(
        Config(api_version=cfg.api_version, cluster=cluster, join=join, kubelet=cfg.kubelet),
        joining=True,
    )


def version_errors(current: Version, target: Version, kadm: Version) -> tuple[list[str], list[str]]:
    """(mandatory, skippable) policy violations, worded as kubeadm's upgrade policy."""
    mandatory: list[str] = []
    skippable: list[str] = []
    if target.minor > kadm.minor or (target.minor == kadm.minor and target.patch > kadm.patch):
        mandatory.append(
            f'Specified version to upgrade to "{target}" is higher than the kubeadm version '
            f'"{kadm}". Upgrade kubeadm first using the tool you used to install kubeadm'
        )
    if target.minor > current.minor + 1:
        mandatory.append(
            f'Specified version to upgrade to "{target}" is too high; kubeadm can upgrade only '
            "1 minor version at a time"
        )
    if target.minor < current.minor:
        mandatory.append(
            f'Specified version to upgrade to "{target}" is at least one minor release lower '
            f'than the cluster version "{current}". Downgrades are not supported'
        )
    elif target <= current:
        skippable.append(
            f'Specified version to upgrade to "{target}" is equal to or lower than the cluster '
            f'version "{current}". Downgrades are not supported yet'
        )
    if target.minor < kadm.minor - 1:
        mandatory.append(
            f'Specified version to upgrade to "{target}" is too low; kubeadm can upgrade only '
            f"to versions of its own minor release ({kadm.major}.{kadm.minor}) or the one before"
        )
    return mandatory, skippable


def _cluster_version(cfg: Config) -> Version:
    v = parse_version(str(cfg.cluster.get("kubernetesVersion", "")))
    if v is None:
        raise KubeadmError("unable to read the cluster version from the kubeadm-config ConfigMap")
    return v


def run_plan(client: Client) -> int:
    cfg = cluster_config(client)
    current, kadm = _cluster_version(cfg), kubeadm_version()
    say(
        [
            "[preflight] Running pre-flight checks.",
            "[upgrade/config] Reading configuration from the cluster...",
            "[upgrade] Running cluster health checks",
            "[upgrade] Fetching available versions to upgrade to",
            f"[upgrade/versions] Cluster version: {current}",
            f"[upgrade/versions] kubeadm version: {kadm}",
        ]
    )
    if kadm <= current or kadm.minor > current.minor + 1:
        say(
            "",
        )
        say("Awesome, you're up-to-date! Enjoy!")
        return 0
    rows = [f"{c:<25} {current!s:<9} {kadm}" for c in COMPONENTS]
    etcd_now, etcd_next = MINORS[current.minor][0], MINORS[kadm.minor][0]
    say(
        [
            "",
            "Upgrade to the latest stable version:",
            "",
            f"{'COMPONENT':<25} {'CURRENT':<9} TARGET",
            *rows,
            f"{'etcd':<25} {etcd_now:<9} {etcd_next}",
            "",
            "You can now apply the upgrade by executing the following command:",
            "",
            f"\tkubeadm upgrade apply {kadm}",
            "",
            "_" * 60,
        ]
    )
    return 0


def _renew_all(s: Settings) -> list[str]:
    out = []
    for leaf in certs.LEAVES:
        if certs.renew(s, leaf.name):
            out.append(f"[upgrade/staticpods] Renewing {leaf.name} certificate")
    for name in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"):
        if kubeconfigs.renew_kubeconfig(s, KUBE_DIR / name):
            out.append(f"[upgrade/staticpods] Renewing {name.removesuffix('.conf')} certificate")
    return out


def _upgrade_local_control_plane(
    s: Settings, client: Client, version: Version, renew: bool
) -> list[str]:
    """New static pod manifests on this host, then wait until its API server reports
    ``version`` (asked on this host, with ``client``'s credentials)."""
    out = _upgrade_static_pods(s, renew)
    local = Client(
        server=s.local_url, ca_pem=client.ca_pem, cert_pem=client.cert_pem, key_pem=client.key_pem
    )
    _wait_version(local, version)
    return out


def _upgrade_static_pods(s: Settings, renew: bool) -> list[str]:
    out = [f'[upgrade/staticpods] Writing new Static Pod manifests to "{MANIFESTS}"']
    if renew:
        out += _renew_all(s)
    etcd_path = MANIFESTS / "etcd.yaml"
    if etcd_path.is_file():
        doc = yamlio.load(etcd_path.read_text())
        image = f"{s.image_repository}/etcd:{MINORS[s.version.minor][0]}"
        container = doc["spec"]["containers"][0]
        if container.get("image") != image:
            container["image"] = image
            manifests.write_manifest("etcd", doc)
            out.append("[upgrade/etcd] Upgrading to TLS for etcd")
    for name, manifest in manifests.control_plane_manifests(s).items():
        manifests.write_manifest(name, manifest)
        out.append(f'[upgrade/staticpods] Component "{name}" upgraded successfully!')
    return out


def _wait_version(client: Client, target: Version, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            info = client.get("/version")
            if isinstance(info, dict) and info.get("gitVersion") == str(target):
                return
        except ApiError:
            pass
        time.sleep(0.5)
    raise KubeadmError(
        "error execution phase control-plane: couldn't upgrade control plane. kubeadm has tried "
        "to recover everything into the earlier state. Errors faced: timed out waiting for the "
        "condition"
    )


def run_apply(target_text: str, *, yes: bool, force: bool, renew: bool) -> int:
    target = parse_version(target_text)
    if target is None:
        raise KubeadmError(
            f'unable to parse normalized version "{target_text}" as a semantic version'
        )
    client = admin_client()
    say(
        [
            "[upgrade] Reading configuration from the cluster...",
            "[upgrade] FYI: You can look at this config file with 'kubectl -n kube-system get cm "
            "kubeadm-config -o yaml'",
            "[preflight] Running pre-flight checks.",
            "[upgrade] Running cluster health checks",
        ]
    )
    cfg = cluster_config(client)
    current, kadm = _cluster_version(cfg), kubeadm_version()
    say(
        [
            f'[upgrade/version] You have chosen to change the cluster version to "{target}"',
            f"[upgrade/versions] Cluster version: {current}",
            f"[upgrade/versions] kubeadm version: {kadm}",
        ]
    )
    mandatory, skippable = version_errors(current, target, kadm)
    if target.minor not in MINORS:
        mandatory.append(f'Specified version to upgrade to "{target}" is not supported')
    if mandatory:
        raise KubeadmError(
            "error execution phase preflight: the version argument is invalid due to these "
            "fatal errors:\n\n"
            + "\n".join(f"\t- {m}" for m in mandatory)
            + "\n\nPlease fix the misalignments highlighted above and try upgrading again"
        )
    if skippable and not force:
        raise KubeadmError(
            "error execution phase preflight: the version argument is invalid due to these "
            "errors:\n\n"
            + "\n".join(f"\t- {m}" for m in skippable)
            + "\n\nCan be bypassed if you pass the --force flag"
        )
    if not yes:
        sys.stdout.write("[upgrade] Are you sure you want to proceed? [y/N]: ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            raise KubeadmError("won't proceed; the user didn't answer (Y|y) in order to continue")
    s = local_settings(cfg, target)
    say(
        f"[upgrade/control-plane] Upgrading your static Pod-hosted control plane to version "
        f'"{target}"...'
    )
    say(_upgrade_local_control_plane(s, client, target, renew))
    cluster = apiobjects.cluster_configuration(s)
    say(apiobjects.upload_config(client, s, kubeletphase.kubelet_config(s)))
    del cluster
    say(kubeletphase.write_kubelet_files(s))
    say(
        [
            f'[upgrade/successful] SUCCESS! Your cluster was upgraded to "{target}". Enjoy!',
            "",
            "[upgrade/kubelet] Now that your control plane is upgraded, please proceed with "
            "upgrading your kubelets if you haven't already done so.",
        ]
    )
    return 0


def run_node(*, renew: bool) -> int:
    client = (
        admin_client(KUBE_DIR / "admin.conf")
        if (KUBE_DIR / "admin.conf").is_file()
        else (admin_client(KUBE_DIR / "kubelet.conf"))
    )
    say(
        [
            "[upgrade] Reading configuration from the cluster...",
            "[upgrade] FYI: You can look at this config file with 'kubectl -n kube-system get cm "
            "kubeadm-config -o yaml'",
        ]
    )
    cfg = cluster_config(client)
    version = _cluster_version(cfg)
    kadm = kubeadm_version()
    if version.minor > kadm.minor:
        raise KubeadmError(
            f'the cluster version "{version}" is higher than the kubeadm version "{kadm}"'
        )
    if (kadm.major, kadm.minor) > (version.major, version.minor):
        # Strict in the lab: `upgrade node` follows `upgrade apply`, which moved the cluster
        # (kubeadm-config) to kubeadm's minor; a real kubeadm would configure this node for the
        # old version instead, which is never what an upgrade means.
        raise KubeadmError(
            f'the control plane has not been upgraded yet: the cluster version is "{version}" '
            f'and this kubeadm is "{kadm}". Run "kubeadm upgrade apply {kadm}" on a '
            "control-plane node first"
        )
    control_plane = (MANIFESTS / "kube-apiserver.yaml").is_file()
    s = local_settings(cfg, version)
    if control_plane:
        say(
            "[upgrade] Upgrading your Static Pod-hosted control plane instance to version "
            f'"{version}"...'
        )
        say(_upgrade_local_control_plane(s, client, version, renew))
    else:
        say("[upgrade] Skipping phase. Not a control plane node.")
    backup = KUBE_DIR / "tmp" / f"kubeadm-kubelet-config{int(time.time())}"
    backup.mkdir(parents=True, exist_ok=True)
    cfg_file = Path("/var/lib/kubelet/config.yaml")
    if cfg_file.is_file():
        (backup / "config.yaml").write_bytes(cfg_file.read_bytes())
        say(f"[upgrade] Backing up kubelet config file to {backup}/config.yaml")
    say(
        kubeletphase.write_kubelet_files(
            s, {**kubeletphase.kubelet_config(s), **cfg.kubelet} if cfg.kubelet else None
        )[1:]
    )
    say(
        [
            "[upgrade] The configuration for this node was successfully updated!",
            "[upgrade] Now you should go ahead and upgrade the kubelet package using your package "
            "manager.",
        ]
    )
    return 0
