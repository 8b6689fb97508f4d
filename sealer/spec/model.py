"""The Clusterfile, as pydantic models.

Field names in YAML are camelCase (``privateKey``, ``podCIDR``); Python attributes are
snake_case. Every model forbids unknown fields. Cross-field rules that need to point at a
particular list item (duplicates, VIP placement, authentication) live in
:mod:`sealer.spec.checks`, which reports them with their paths.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SecretStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from sealer.preflight_names import PREFLIGHT_CHECKS, PreflightCheck
from sealer.spec.addresses import MAX_HOSTS, check_entry, count_entry, expand_entry, is_ip
from sealer.spec.oncalendar import check_calendar

__all__ = [
    "API_VERSION",
    "CNI_ADDONS",
    "DEFAULT_VIP",
    "PREFLIGHT_CHECKS",
    "Certificates",
    "Cluster",
    "ClusterSpec",
    "CniManifest",
    "HostOverride",
    "JumpHost",
    "KubeadmPatches",
    "LoadBalancer",
    "Metadata",
    "Network",
    "Package",
    "Preflight",
    "PreflightCheck",
    "SshConfig",
    "SshOverride",
    "Taint",
    "Upgrade",
    "parse_version",
]

API_VERSION = "sealer.dev/v1alpha1"
DEFAULT_VIP = "10.103.97.2"
MIN_KUBERNETES = (1, 23)

_VERSION = re.compile(r"^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def parse_version(text: str) -> tuple[int, int, int]:
    match = _VERSION.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a Kubernetes version like v1.29.3")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def _check_version(text: str) -> str:
    major, minor, _ = parse_version(text)
    if (major, minor) < MIN_KUBERNETES:
        raise ValueError(f"'{text}' is too old: sealer supports Kubernetes v1.23 and later")
    return text


def _check_host(text: str) -> str:
    return check_entry(text)


def _check_single_host(text: str) -> str:
    checked = check_entry(text)
    if expand_entry(checked) != [checked]:
        raise ValueError(f"'{text}' is an address range; a jump host is one host")
    return checked


def _check_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"'{text}' is not a valid IP address") from None


def _check_cidr(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise ValueError(f"'{text}' has host bits set") from None
        raise ValueError(f"'{text}' is not a valid CIDR like 10.96.0.0/12") from None


def _check_dns_name(text: str) -> str:
    checked = check_entry(text)
    if is_ip(checked) or expand_entry(checked) != [checked]:  # an address or a range
        raise ValueError(f"'{text}' is an address, not a DNS name")
    return checked


def _check_san(text: str) -> str:
    body = text[2:] if text.startswith("*.") else text
    check_entry(body)
    if "-" in body and not any(c.isalpha() for c in body):
        raise ValueError(f"'{text}' is an address range, not a certificate SAN")
    return text


def _check_name(text: str) -> str:
    if not _NAME.match(text):
        raise ValueError(
            f"'{text}' is not a valid name: lower-case letters, digits and '-', at most 63"
        )
    return text


def _check_label_key(text: str) -> str:
    if not _LABEL_KEY.match(text):
        raise ValueError(f"'{text}' is not a valid label key")
    return text


def _check_label_value(text: str) -> str:
    if not _LABEL_VALUE.match(text):
        raise ValueError(f"'{text}' is not a valid label value")
    return text


LabelKey = Annotated[str, AfterValidator(_check_label_key)]
LabelValue = Annotated[str, AfterValidator(_check_label_value)]
HostEntry = Annotated[str, AfterValidator(_check_host)]
SingleHost = Annotated[str, AfterValidator(_check_single_host)]
KubeVersion = Annotated[str, AfterValidator(_check_version)]
IpAddress = Annotated[str, AfterValidator(_check_ip)]
Cidr = Annotated[str, AfterValidator(_check_cidr)]
DnsName = Annotated[str, AfterValidator(_check_dns_name)]
CertSan = Annotated[str, AfterValidator(_check_san)]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        alias_generator=to_camel,
        strict=False,
        ignored_types=(cached_property,),
        # Build one validator for the whole Clusterfile when it is first validated, rather than
        # one per model class at import (start-up, docs/benchmarks.md).
        defer_build=True,
    )


class JumpHost(_Model):
    """A bastion that sealer tunnels through to reach the hosts."""

    host: SingleHost = Field(description="Address or DNS name of the jump host.")
    port: Port = Field(default=22, description="SSH port of the jump host.")
    user: str = Field(default="root", min_length=1, description="User on the jump host.")
    password: SecretStr | None = Field(default=None, description="Password; `${ENV_VAR}` allowed.")
    private_key: str | None = Field(
        default=None, min_length=1, description="Path to a private key file."
    )
    passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of the key; `${ENV_VAR}` allowed."
    )


class SshConfig(_Model):
    """How sealer logs in to the hosts."""

    user: str = Field(default="root", min_length=1, description="Login user.")
    port: Port = Field(default=22, description="SSH port.")
    password: SecretStr | None = Field(
        default=None, description="Login password; use `${ENV_VAR}` to keep it out of git."
    )
    private_key: str | None = Field(
        default=None, min_length=1, description="Path to a private key file."
    )
    passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of the private key; `${ENV_VAR}` allowed."
    )
    agent: bool = Field(default=False, description="Also offer the keys of a running ssh-agent.")
    sudo: bool = Field(
        default=False, description="Run commands with `sudo -n` (for a non-root user)."
    )
    jump_host: JumpHost | None = Field(default=None, description="Reach hosts through a bastion.")
    known_hosts: str | None = Field(
        default=None,
        min_length=1,
        description="A known_hosts file the hosts' keys are checked against, besides "
        "~/.ssh/known_hosts (a relative path is relative to the Clusterfile).",
    )

    def can_authenticate(self) -> bool:
        return self.password is not None or self.private_key is not None or self.agent


class SshOverride(_Model):
    """Per-host SSH settings; each field given replaces the cluster-wide one."""

    user: str | None = Field(default=None, min_length=1)
    port: Port | None = None
    password: SecretStr | None = None
    private_key: str | None = Field(default=None, min_length=1)
    passphrase: SecretStr | None = None
    agent: bool | None = None
    sudo: bool | None = None
    jump_host: JumpHost | None = None


class Taint(_Model):
    key: LabelKey = Field(description="Taint key, with the syntax of a label key.")
    value: LabelValue = Field(default="", description="Taint value, as a label value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class HostOverride(_Model):
    """Settings for one host, keyed by its address in ``spec.hosts``."""

    ssh: SshOverride | None = Field(default=None, description="SSH settings for this host.")
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, description="Node labels.")
    taints: list[Taint] = Field(default_factory=list, description="Node taints.")


def _check_manifest_path(text: str) -> str:
    parts = text.split("/")
    if not text or text.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(
            f"'{text}' is not a path inside the package (relative to its kube/ directory, "
            "like manifests/my-cni.yaml, without '..')"
        )
    if not text.endswith((".yaml", ".yml", ".json")):
        raise ValueError(f"'{text}' is not a manifest file (.yaml, .yml or .json)")
    return text


ManifestPath = Annotated[str, AfterValidator(_check_manifest_path)]
CNI_ADDONS = ("calico", "flannel", "none")


class CniManifest(_Model):
    """A network add-on of the package's own: a manifest inside the package."""

    manifest: ManifestPath = Field(
        description="Path of the add-on's manifest inside the package (relative to kube/)."
    )


def _parse_cni(value: Any) -> str | CniManifest:
    if isinstance(value, CniManifest):
        return value
    if isinstance(value, str):
        if value in CNI_ADDONS:
            return value
        raise ValueError(
            f"'{value}' is not one of: calico, flannel, none (or {{manifest: PATH}}, a "
            "manifest inside the package)"
        )
    if isinstance(value, dict):
        extra = sorted(str(k) for k in value if k != "manifest")
        if extra:
            raise ValueError(f"unknown field '{extra[0]}' (the only one is manifest)")
        manifest = value.get("manifest")
        if not isinstance(manifest, str):
            raise ValueError("manifest: a path inside the package is required")
        return CniManifest(manifest=_check_manifest_path(manifest))
    raise ValueError("expected calico, flannel, none or {manifest: PATH}")


_CNI_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"enum": list(CNI_ADDONS), "type": "string"},
        {
            "type": "object",
            "properties": {"manifest": {"type": "string", "minLength": 1}},
            "required": ["manifest"],
            "additionalProperties": False,
        },
    ],
    "default": "calico",
}
CniChoice = Annotated[str | CniManifest, PlainValidator(_parse_cni), WithJsonSchema(_CNI_SCHEMA)]


class Network(_Model):
    cni: CniChoice = Field(
        default="calico",
        description=(
            "Network add-on applied after init: calico or flannel (the package's manifest), "
            "none (nodes stay NotReady until you install one), or {manifest: PATH} inside "
            "the package. @POD_CIDR@ in the manifest becomes podCIDR."
        ),
    )

    @property
    def cni_type(self) -> str:
        """What the add-on is, as recorded in the cluster: its name, or ``manifest PATH``."""
        if isinstance(self.cni, CniManifest):
            return f"manifest {self.cni.manifest}"
        return self.cni

    pod_cidr: Cidr = Field(default="100.64.0.0/10", alias="podCIDR", description="Pod network.")
    service_cidr: Cidr = Field(
        default="10.96.0.0/16",
        alias="serviceCIDR",
        description="Service network (the default leaves the default VIP outside it).",
    )
    api_server_domain: DnsName = Field(
        default="apiserver.cluster.local",
        description="Name every host uses to reach the API server (mapped in /etc/hosts).",
    )
    dns_domain: DnsName = Field(default="cluster.local", description="Cluster DNS domain.")
    cert_sans: list[CertSan] = Field(
        default_factory=list,
        alias="certSANs",
        description="Extra names and addresses in the API server certificate.",
    )


class Package(_Model):
    source: str = Field(
        min_length=1, description="Offline package: a local path or an http(s) URL."
    )
    sha256: str | None = Field(default=None, description="Expected sha256 of the package.")
    distribution: Literal["auto", "relay", "direct"] = Field(
        default="auto",
        description="How hosts get the package: direct (the workstation uploads to each), "
        "relay (the workstation uploads to one host; hosts holding a verified copy serve the "
        "others over the cluster network), auto (relay when 4 or more hosts need a copy).",
    )
    fanout: int = Field(
        default=4,
        ge=1,
        le=64,
        description="relay: how many hosts one serving host copies to at once.",
    )

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if "://" in value and not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is neither a local path nor an http(s) URL")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.match(value.lower()):
            raise ValueError(f"'{value}' is not a sha256 (64 hexadecimal digits)")
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _download_needs_sha256(self) -> Package:
        if self.source.startswith(("http://", "https://")) and self.sha256 is None:
            raise ValueError(
                "a package downloaded over http(s) needs sha256: its init.sh and binaries run "
                "as root on every host, and a TLS certificate proves only who served the file, "
                "not what the file is (give the sha256 its publisher states: `sha256sum FILE`)"
            )
        return self


class LoadBalancer(_Model):
    """The node-local load balancer that makes the VIP reach healthy masters."""

    backend: Literal["auto", "ipvs", "nftables"] = Field(
        default="auto", description="Kernel backend; auto picks IPVS when the kernel has it."
    )
    interval: int = Field(default=5, ge=1, le=300, description="Seconds between probes.")
    timeout: int = Field(default=2, ge=1, le=60, description="Seconds a probe may take.")
    fall: int = Field(default=2, ge=1, le=20, description="Failed probes before removal.")
    rise: int = Field(default=2, ge=1, le=20, description="Good probes before re-adding.")


class Certificates(_Model):
    validity_years: int = Field(
        default=99, ge=1, le=200, description="Validity of every certificate sealer issues."
    )
    key_algorithm: Literal["rsa-2048", "ecdsa-p256"] = Field(
        default="rsa-2048", description="Key type of CAs and leaves."
    )


class Preflight(_Model):
    """The host checks run before any change (`sealer diff` and `apply` report them)."""

    ignore: list[PreflightCheck] = Field(
        default_factory=list,
        description="Checks to skip, by name (`all` skips every one), as kubeadm's "
        "--ignore-preflight-errors; a skipped check neither reports nor prepares anything.",
    )


_MAX_UNAVAILABLE = re.compile(r"^([1-9][0-9]?|100)%$")
_DURATION = re.compile(r"^([1-9][0-9]*)(s|m|h)$")


def _check_max_unavailable(value: int | str) -> int | str:
    if isinstance(value, str) and not _MAX_UNAVAILABLE.match(value):
        raise ValueError(f"'{value}' is not a number of nodes or a percentage like 30%")
    return value


def _check_duration(text: str) -> str:
    if not _DURATION.match(text):
        raise ValueError(f"'{text}' is not a duration like 300s, 10m or 1h")
    return text


MaxUnavailable = Annotated[int | str, AfterValidator(_check_max_unavailable)]
Duration = Annotated[str, AfterValidator(_check_duration)]


class Upgrade(_Model):
    """How a change of ``spec.version`` on a running cluster is rolled out."""

    max_unavailable: MaxUnavailable = Field(
        default=1,
        description=(
            "Worker nodes upgraded (drained) at once: a number (at least 1) or a percentage of "
            "the nodes, rounded down, at least 1."
        ),
    )
    drain_timeout: Duration = Field(
        default="300s",
        description="How long a drain may wait for pods to leave (PodDisruptionBudgets).",
    )

    @field_validator("max_unavailable")
    @classmethod
    def _at_least_one(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"{value} is not a number of nodes: at least 1")
        return value

    def batch_size(self, nodes: int) -> int:
        """Nodes per batch for ``nodes`` workers (at least 1)."""
        if isinstance(self.max_unavailable, int):
            return max(1, self.max_unavailable)
        percent = int(self.max_unavailable.rstrip("%"))
        return max(1, nodes * percent // 100)

    @property
    def drain_seconds(self) -> int:
        unit = {"s": 1, "m": 60, "h": 3600}[self.drain_timeout[-1]]
        return int(self.drain_timeout[:-1]) * unit


class KubeadmPatches(_Model):
    """User patches merged into the generated kubeadm configuration, one mapping per kind."""

    init_configuration: dict[str, Any] = Field(default_factory=dict)
    cluster_configuration: dict[str, Any] = Field(default_factory=dict)
    join_configuration: dict[str, Any] = Field(default_factory=dict)
    kubelet_configuration: dict[str, Any] = Field(default_factory=dict)
    kube_proxy_configuration: dict[str, Any] = Field(default_factory=dict)


def _package_or_string(schema: dict[str, Any]) -> None:
    """The JSON Schema of ``package`` also accepts the string shorthand the model accepts."""
    description = schema.pop("description", None)
    reference = dict(schema)
    schema.clear()
    if description is not None:
        schema["description"] = description
    schema["anyOf"] = [{"type": "string", "minLength": 1}, reference]


_BACKUP_DIR = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
#: Directories a backup must not live in: kubeadm, etcd and the kubelet own them, and
#: `sealer clean` or a restore (which moves etcd's data aside) would take the snapshots along.
_NOT_BACKUP_DIRS = ("/etc/kubernetes", "/var/lib/etcd", "/var/lib/kubelet", "/var/lib/sealer")


def _check_backup_dir(text: str) -> str:
    if not _BACKUP_DIR.match(text) or any(p in (".", "..") for p in text.split("/")):
        raise ValueError(
            f"'{text}' is not a plain absolute directory (letters, digits, '.', '_', '-' "
            "between slashes, no '.' or '..' component)"
        )
    for owned in _NOT_BACKUP_DIRS:
        if text == owned or text.startswith(owned + "/"):
            raise ValueError(
                f"'{text}' is inside {owned}, which sealer clean or a restore empties: keep "
                "the snapshots elsewhere (the default is /var/backups/sealer-etcd)"
            )
    return text


CalendarEvent = Annotated[str, AfterValidator(check_calendar)]
BackupDir = Annotated[str, AfterValidator(_check_backup_dir)]


class Backup(_Model):
    """Scheduled etcd snapshots on every master: a systemd timer sealer installs, rewrites
    and removes (docs/operations.md, "Scheduled snapshots")."""

    schedule: CalendarEvent = Field(
        default="daily",
        description="When: a systemd calendar event (OnCalendar=, UTC), e.g. daily, hourly, "
        "'*-*-* 02:30' or 'Mon..Fri 03:00'.",
    )
    keep: int = Field(
        default=7, ge=1, le=1000, description="Snapshots kept on each master (the newest)."
    )
    dir: BackupDir = Field(
        default="/var/backups/sealer-etcd",
        description="Directory of the snapshots on each master (0700, files 0600).",
    )


class ClusterSpec(_Model):
    version: KubeVersion = Field(description="Kubernetes version, vMAJOR.MINOR.PATCH.")
    masters: list[HostEntry] = Field(
        min_length=1, description="Control-plane hosts; the first is master0."
    )
    nodes: list[HostEntry] = Field(default_factory=list, description="Worker hosts.")
    vip: IpAddress = Field(default=DEFAULT_VIP, description="Node-local virtual IP of the API.")
    package: Package = Field(
        description="The offline Kubernetes package; a string is short for {source: ...}.",
        json_schema_extra=_package_or_string,
    )
    ssh: SshConfig = Field(default_factory=SshConfig, description="SSH access to all hosts.")
    hosts: dict[HostEntry, HostOverride] = Field(
        default_factory=dict, description="Per-host overrides, keyed by host address."
    )
    network: Network = Field(default_factory=Network)
    load_balancer: LoadBalancer = Field(default_factory=LoadBalancer)
    certificates: Certificates = Field(default_factory=Certificates)
    kubeadm: KubeadmPatches = Field(default_factory=KubeadmPatches)
    preflight: Preflight = Field(default_factory=Preflight)
    upgrade: Upgrade = Field(default_factory=Upgrade)
    backup: Backup | None = Field(
        default=None,
        description="Scheduled etcd snapshots on the masters; absent: none (and a timer "
        "sealer installed before is removed).",
    )

    @model_validator(mode="after")
    def _bounded_host_count(self) -> ClusterSpec:
        count = sum(count_entry(e) for e in (*self.masters, *self.nodes))
        if count > MAX_HOSTS:
            raise ValueError(
                f"masters and nodes stand for {count} hosts once ranges are expanded; a "
                f"Clusterfile may list at most {MAX_HOSTS} (Kubernetes' limit of nodes per "
                "cluster)"
            )
        return self

    @field_validator("package", mode="before")
    @classmethod
    def _package_shorthand(cls, value: Any) -> Any:
        return {"source": value} if isinstance(value, str) else value

    @field_validator("hosts", mode="before")
    @classmethod
    def _hosts_distinct(cls, value: Any) -> Any:
        """Keys are normalised (``FD00::0001`` is ``fd00::1``): two must not name one host."""
        if not isinstance(value, dict):
            return value
        seen: dict[str, str] = {}
        for key in value:
            try:
                normal = check_entry(key) if isinstance(key, str) else None
            except ValueError:
                continue  # reported by the key's own validation
            if normal is None:
                continue
            if normal in seen:
                raise ValueError(f"'{seen[normal]}' and '{key}' are the same host")
            seen[normal] = key
        return value

    @cached_property
    def master_addresses(self) -> list[str]:
        return [a for entry in self.masters for a in expand_entry(entry)]

    @cached_property
    def node_addresses(self) -> list[str]:
        return [a for entry in self.nodes for a in expand_entry(entry)]

    @property
    def master0(self) -> str:
        return self.master_addresses[0]

    @property
    def all_addresses(self) -> list[str]:
        return self.master_addresses + self.node_addresses

    def role_of(self, address: str) -> Literal["master", "node"]:
        return "master" if address in self.master_addresses else "node"

    def ssh_for(self, address: str) -> SshConfig:
        """The cluster-wide SSH settings with this host's overrides applied."""
        override = self.hosts.get(address)
        if override is None or override.ssh is None:
            return self.ssh
        changes = {k: v for k, v in override.ssh if v is not None}
        return self.ssh.model_copy(update=changes)

    def override_for(self, address: str) -> HostOverride:
        return self.hosts.get(address) or HostOverride()


class Metadata(_Model):
    name: Annotated[str, AfterValidator(_check_name)] = Field(description="Cluster name.")


class Cluster(_Model):
    """A Clusterfile."""

    model_config = ConfigDict(title="Clusterfile")

    api_version: Literal["sealer.dev/v1alpha1"] = Field(description="Clusterfile schema version.")
    kind: Literal["Cluster"]
    metadata: Metadata
    spec: ClusterSpec
