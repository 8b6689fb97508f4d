"""kubeadm configuration files: decoding with kubeadm's strictness, and defaults.

Unknown fields print kubeadm's strict-decoding warning and are ignored; a value of the wrong
JSON type fails with encoding/json's message as kubeadm reports it; unknown API versions and
kinds fail as kubeadm's scheme does. ``kubeadm.k8s.io/v1beta3`` is read by every emulated
version (deprecated from 1.31), ``v1beta4`` from 1.31 (extraArgs as a name/value list).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from sealer_lab.emulate import yamlio
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.versions import Version

__all__ = ["Config", "Struct", "decode_documents", "load_config"]

GROUP = "kubeadm.k8s.io"
SCHEME = "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"


@dataclass(frozen=True)
class Struct:
    """A Go struct: its type name and its JSON fields (name -> type)."""

    name: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class ListOf:
    item: Any
    go: str


@dataclass(frozen=True)
class MapOf:
    value: str
    go: str


STR, INT32, BOOL, DURATION = "string", "int32", "bool", "v1.Duration"
STRS = ListOf(STR, "[]string")


def _schemas(v4: bool) -> dict[str, Struct]:
    pkg = "v1beta4" if v4 else "v1beta3"
    arg = Struct("Arg", {"name": STR, "value": STR})
    extra_args: Any = ListOf(arg, f"[]{pkg}.Arg") if v4 else MapOf(STR, "map[string]string")
    env = ListOf(Struct("EnvVar", {"name": STR, "value": STR}), f"[]{pkg}.EnvVar")
    taint = Struct("Taint", {"key": STR, "value": STR, "effect": STR, "timeAdded": STR})
    node_reg = Struct(
        "NodeRegistrationOptions",
        {
            "name": STR,
            "criSocket": STR,
            "taints": ListOf(taint, "[]v1.Taint"),
            "kubeletExtraArgs": extra_args,
            "ignorePreflightErrors": STRS,
            "imagePullPolicy": STR,
            **({"imagePullSerial": BOOL} if v4 else {}),
        },
    )
    endpoint = Struct("APIEndpoint", {"advertiseAddress": STR, "bindPort": INT32})
    token = Struct(
        "BootstrapToken",
        {
            "token": STR,
            "description": STR,
            "ttl": DURATION,
            "expires": STR,
            "usages": STRS,
            "groups": STRS,
        },
    )
    patches = Struct("Patches", {"directory": STR})
    volume = Struct(
        "HostPathMount",
        {"name": STR, "hostPath": STR, "mountPath": STR, "readOnly": BOOL, "pathType": STR},
    )
    component_fields: dict[str, Any] = {
        "extraArgs": extra_args,
        "extraVolumes": ListOf(volume, f"[]{pkg}.HostPathMount"),
    }
    if v4:
        component_fields["extraEnvs"] = env
    component = Struct("ControlPlaneComponent", component_fields)
    apiserver_fields = dict(component_fields)
    apiserver_fields["certSANs"] = STRS
    if not v4:
        apiserver_fields["timeoutForControlPlane"] = DURATION
    local_etcd_fields: dict[str, Any] = {
        "imageRepository": STR,
        "imageTag": STR,
        "dataDir": STR,
        "extraArgs": extra_args,
        "serverCertSANs": STRS,
        "peerCertSANs": STRS,
    }
    if v4:
        local_etcd_fields["extraEnvs"] = env
    etcd = Struct(
        "Etcd",
        {
            "local": Struct("LocalEtcd", local_etcd_fields),
            "external": Struct(
                "ExternalEtcd",
                {"endpoints": STRS, "caFile": STR, "certFile": STR, "keyFile": STR},
            ),
        },
    )
    dns_fields: dict[str, Any] = {"imageRepository": STR, "imageTag": STR}
    if v4:
        dns_fields["disabled"] = BOOL
    timeouts = Struct(
        "Timeouts",
        {
            k: DURATION
            for k in (
                "controlPlaneComponentHealthCheck",
                "kubeletHealthCheck",
                "kubernetesAPICall",
                "etcdAPICall",
                "tlsBootstrap",
                "discovery",
                "upgradeManifests",
            )
        },
    )
    init_fields: dict[str, Any] = {
        "apiVersion": STR,
        "kind": STR,
        "bootstrapTokens": ListOf(token, f"[]{pkg}.BootstrapToken"),
        "nodeRegistration": node_reg,
        "localAPIEndpoint": endpoint,
        "certificateKey": STR,
        "skipPhases": STRS,
        "patches": patches,
    }
    cluster_fields: dict[str, Any] = {
        "apiVersion": STR,
        "kind": STR,
        "etcd": etcd,
        "networking": Struct(
            "Networking", {"serviceSubnet": STR, "podSubnet": STR, "dnsDomain": STR}
        ),
        "kubernetesVersion": STR,
        "controlPlaneEndpoint": STR,
        "apiServer": Struct("APIServer", apiserver_fields),
        "controllerManager": component,
        "scheduler": component,
        "dns": Struct("DNS", dns_fields),
        "certificatesDir": STR,
        "imageRepository": STR,
        "featureGates": MapOf(BOOL, "map[string]bool"),
        "clusterName": STR,
    }
    discovery_fields: dict[str, Any] = {
        "bootstrapToken": Struct(
            "BootstrapTokenDiscovery",
            {
                "token": STR,
                "apiServerEndpoint": STR,
                "caCertHashes": STRS,
                "unsafeSkipCAVerification": BOOL,
            },
        ),
        "file": Struct("FileDiscovery", {"kubeConfigPath": STR}),
        "tlsBootstrapToken": STR,
    }
    join_fields: dict[str, Any] = {
        "apiVersion": STR,
        "kind": STR,
        "nodeRegistration": node_reg,
        "caCertPath": STR,
        "discovery": Struct("Discovery", discovery_fields),
        "controlPlane": Struct(
            "JoinControlPlane", {"localAPIEndpoint": endpoint, "certificateKey": STR}
        ),
        "skipPhases": STRS,
        "patches": patches,
    }
    if v4:
        init_fields.update({"timeouts": timeouts, "dryRun": BOOL})
        join_fields.update({"timeouts": timeouts, "dryRun": BOOL})
        cluster_fields.update(
            {
                "proxy": Struct("Proxy", {"disabled": BOOL}),
                "encryptionAlgorithm": STR,
                "certificateValidityPeriod": DURATION,
                "caCertificateValidityPeriod": DURATION,
            }
        )
    else:
        discovery_fields["timeout"] = DURATION
    reset_fields: dict[str, Any] = {
        "apiVersion": STR,
        "kind": STR,
        "cleanupTmpDir": BOOL,
        "certificatesDir": STR,
        "criSocket": STR,
        "dryRun": BOOL,
        "force": BOOL,
        "ignorePreflightErrors": STRS,
        "skipPhases": STRS,
    }
    upgrade_fields: dict[str, Any] = {"apiVersion": STR, "kind": STR}
    kinds = {
        "InitConfiguration": Struct("InitConfiguration", init_fields),
        "ClusterConfiguration": Struct("ClusterConfiguration", cluster_fields),
        "JoinConfiguration": Struct("JoinConfiguration", join_fields),
    }
    if v4:
        kinds["ResetConfiguration"] = Struct("ResetConfiguration", reset_fields)
        kinds["UpgradeConfiguration"] = Struct("UpgradeConfiguration", upgrade_fields)
    return kinds


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (dt.date, dt.datetime)):
        return "string"
    return "null"


def _go_name(kind: Any) -> str:
    if isinstance(kind, Struct):
        return kind.name
    if isinstance(kind, (ListOf, MapOf)):
        return kind.go
    return str(kind)


def _type_error(value: Any, struct: str, path: str, kind: Any) -> KubeadmError:
    return KubeadmError(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
        f"{_json_kind(value)} into Go struct field {struct}.{path} of type {_go_name(kind)}"
    )


def _check(value: Any, kind: Any, struct: str, path: str, unknown: list[str]) -> Any:
    """Type-check one value; collect unknown field paths; return the value normalised."""
    if value is None:
        return None
    if isinstance(kind, Struct):
        if not isinstance(value, dict):
            raise _type_error(value, struct, path, kind)
        out: dict[str, Any] = {}
        for key, sub in value.items():
            sub_path = f"{path}.{key}" if path else str(key)
            if key not in kind.fields:
                unknown.append(sub_path)
                continue
            out[key] = _check(sub, kind.fields[key], kind.name, sub_path, unknown)
        return out
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            raise _type_error(value, struct, path, kind)
        return [_check(v, kind.item, struct, path, unknown) for v in value]
    if isinstance(kind, MapOf):
        if not isinstance(value, dict):
            raise _type_error(value, struct, path, kind)
        return {str(k): _check(v, kind.value, struct, path, unknown) for k, v in value.items()}
    if kind in (STR, DURATION):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if not isinstance(value, str):
            raise _type_error(value, struct, path, "string" if kind == STR else kind)
        return value
    if kind == INT32:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(value, struct, path, kind)
        if not -(2**31) <= value < 2**31:
            raise KubeadmError(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number "
                f"{value} into Go struct field {struct}.{path} of type int32"
            )
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            raise _type_error(value, struct, path, kind)
        return value
    return value


def klog_warning(message: str, source: str = "strict.go:54") -> None:
    now = dt.datetime.now()
    sys.stderr.write(f"W{now.strftime('%m%d %H:%M:%S.%f')} {os.getpid():>7} {source}] {message}\n")


@dataclass
class Config:
    """The decoded documents of a kubeadm config file (kinds kubeadm knows, plus components)."""

    api_version: str = ""
    init: dict[str, Any] = field(default_factory=dict)
    cluster: dict[str, Any] = field(default_factory=dict)
    join: dict[str, Any] = field(default_factory=dict)
    kubelet: dict[str, Any] = field(default_factory=dict)
    kube_proxy: dict[str, Any] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)

    @property
    def v4(self) -> bool:
        return self.api_version.endswith("v1beta4")


def decode_documents(text: str, kubeadm_version: Version) -> Config:
    try:
        docs = yamlio.load_all(text)
    except Exception as exc:  # ruamel's errors have no common base worth naming here
        raise KubeadmError(f"error converting YAML to JSON: yaml: {exc}") from None
    cfg = Config()
    for doc in docs:
        if not isinstance(doc, dict):
            raise KubeadmError("Object 'Kind' is missing in '" + str(doc) + "'")
        api_version = str(doc.get("apiVersion", ""))
        kind = str(doc.get("kind", ""))
        if not kind:
            raise KubeadmError(f"Object 'Kind' is missing in '{yamlio.dump(doc).strip()}'")
        group, _, version = api_version.rpartition("/")
        if group == "kubelet.config.k8s.io" and kind == "KubeletConfiguration":
            cfg.kubelet = doc
            cfg.kinds.append(kind)
            continue
        if group == "kubeproxy.config.k8s.io" and kind == "KubeProxyConfiguration":
            cfg.kube_proxy = doc
            cfg.kinds.append(kind)
            continue
        if group != GROUP:
            klog_warning(
                f"[config] WARNING: Ignored YAML document with GroupVersionKind "
                f"{api_version}, Kind={kind}",
                "common.go:105",
            )
            continue
        if version in ("v1beta1", "v1beta2"):
            raise KubeadmError(
                f'your configuration file uses an old API spec: "{api_version}". Please use '
                f"kubeadm v1.22 instead and run 'kubeadm config migrate --old-config old.yaml "
                "--new-config new.yaml', which will write the new, similar spec using a newer "
                "API version."
            )
        v4 = version == "v1beta4"
        if version not in ("v1beta3", "v1beta4") or (v4 and kubeadm_version.minor < 31):
            raise KubeadmError(
                f'no kind "{kind}" is registered for version "{api_version}" in scheme "{SCHEME}"'
            )
        if version == "v1beta3" and kubeadm_version.minor >= 31:
            klog_warning(
                f'please use the "kubeadm config migrate" command to migrate the {api_version} '
                f"{kind} to {GROUP}/v1beta4: {api_version} is deprecated",
                "initconfiguration.go:0",
            )
        schemas = _schemas(v4)
        if kind not in schemas:
            raise KubeadmError(
                f'no kind "{kind}" is registered for version "{api_version}" in scheme "{SCHEME}"'
            )
        unknown: list[str] = []
        decoded = _check(doc, schemas[kind], kind, "", unknown)
        for path in unknown:
            klog_warning(
                f'error unmarshaling configuration schema.GroupVersionKind{{Group:"{GROUP}", '
                f'Version:"{version}", Kind:"{kind}"}}: strict decoding error: unknown field '
                f'"{path}"'
            )
        if cfg.api_version and cfg.api_version != api_version:
            pass  # mixed versions are allowed by kubeadm; the last one wins for rendering
        cfg.api_version = api_version
        cfg.kinds.append(kind)
        if kind == "InitConfiguration":
            cfg.init = decoded
        elif kind == "ClusterConfiguration":
            cfg.cluster = decoded
        elif kind == "JoinConfiguration":
            cfg.join = decoded
    return cfg


def load_config(path: str, kubeadm_version: Version) -> Config:
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise KubeadmError(f"unable to read config from {path!r} : open {path}: {reason}") from None
    return decode_documents(text, kubeadm_version)


def extra_args(value: Any) -> dict[str, str]:
    """extraArgs as a dict whatever the API version (v1beta4 lists keep the last value)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for item in value or []:
        if isinstance(item, dict) and "name" in item:
            out[str(item["name"])] = str(item.get("value", ""))
    return out
