"""The real kube-apiserver command line, parsed the way the real binary (cobra + pflag) does.

kubeadm writes these flags into /etc/kubernetes/manifests/kube-apiserver.yaml; the kubelet
emulator runs ``python3 -m sealer_lab.emulate.apiserver`` with exactly that argv. Flags a real
kube-apiserver knows but the emulator does not act on are accepted and ignored; flags the real
binary does not know fail with ``Error: unknown flag: --foo`` and exit status 1, like cobra.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

__all__ = [
    "KNOWN_BOOL_FLAGS",
    "KNOWN_VALUE_FLAGS",
    "FlagError",
    "Options",
    "parse_flags",
    "validate",
]

# Boolean flags of kube-apiserver v1.29 (pflag: `--x`, `--x=true`, `--x=false`).
KNOWN_BOOL_FLAGS = frozenset(
    {
        "allow-privileged",
        "anonymous-auth",
        "enable-aggregator-routing",
        "enable-bootstrap-token-auth",
        "enable-garbage-collector",
        "enable-logs-handler",
        "enable-priority-and-fairness",
        "help",
        "profiling",
        "contention-profiling",
        "service-account-extend-token-expiration",
        "service-account-lookup",
        "version",
        "watch-cache",
        "audit-log-compress",
        "audit-log-batch-throttle-enable",
        "audit-webhook-batch-throttle-enable",
        "audit-log-truncate-enabled",
        "audit-webhook-truncate-enabled",
        "permit-port-sharing",
        "permit-address-sharing",
    }
)

# Flags of kube-apiserver v1.29 that take a value (`--x=v` or `--x v`).
KNOWN_VALUE_FLAGS = frozenset(
    {
        "admission-control-config-file",
        "advertise-address",
        "aggregator-reject-forwarding-redirect",
        "api-audiences",
        "audit-log-batch-buffer-size",
        "audit-log-batch-max-size",
        "audit-log-batch-max-wait",
        "audit-log-batch-throttle-burst",
        "audit-log-batch-throttle-qps",
        "audit-log-format",
        "audit-log-maxage",
        "audit-log-maxbackup",
        "audit-log-maxsize",
        "audit-log-mode",
        "audit-log-path",
        "audit-log-truncate-max-batch-size",
        "audit-log-truncate-max-event-size",
        "audit-log-version",
        "audit-policy-file",
        "audit-webhook-batch-buffer-size",
        "audit-webhook-batch-max-size",
        "audit-webhook-batch-max-wait",
        "audit-webhook-batch-throttle-burst",
        "audit-webhook-batch-throttle-qps",
        "audit-webhook-config-file",
        "audit-webhook-initial-backoff",
        "audit-webhook-mode",
        "audit-webhook-truncate-max-batch-size",
        "audit-webhook-truncate-max-event-size",
        "audit-webhook-version",
        "authentication-config",
        "authentication-token-webhook-cache-ttl",
        "authentication-token-webhook-config-file",
        "authentication-token-webhook-version",
        "authorization-config",
        "authorization-mode",
        "authorization-policy-file",
        "authorization-webhook-cache-authorized-ttl",
        "authorization-webhook-cache-unauthorized-ttl",
        "authorization-webhook-config-file",
        "authorization-webhook-version",
        "bind-address",
        "cert-dir",
        "client-ca-file",
        "cloud-config",
        "cloud-provider",
        "cors-allowed-origins",
        "default-not-ready-toleration-seconds",
        "default-unreachable-toleration-seconds",
        "default-watch-cache-size",
        "delete-collection-workers",
        "disable-admission-plugins",
        "egress-selector-config-file",
        "enable-admission-plugins",
        "encryption-provider-config",
        "encryption-provider-config-automatic-reload",
        "endpoint-reconciler-type",
        "etcd-cafile",
        "etcd-certfile",
        "etcd-compaction-interval",
        "etcd-count-metric-poll-period",
        "etcd-db-metric-poll-interval",
        "etcd-healthcheck-timeout",
        "etcd-keyfile",
        "etcd-prefix",
        "etcd-readycheck-timeout",
        "etcd-servers",
        "etcd-servers-overrides",
        "event-ttl",
        "external-hostname",
        "feature-gates",
        "goaway-chance",
        "http2-max-streams-per-connection",
        "kubelet-certificate-authority",
        "kubelet-client-certificate",
        "kubelet-client-key",
        "kubelet-preferred-address-types",
        "kubelet-timeout",
        "kubernetes-service-node-port",
        "lease-reuse-duration-seconds",
        "livez-grace-period",
        "log-flush-frequency",
        "log-json-info-buffer-size",
        "log-json-split-stream",
        "logging-format",
        "max-connection-bytes-per-sec",
        "max-mutating-requests-inflight",
        "max-requests-inflight",
        "min-request-timeout",
        "oidc-ca-file",
        "oidc-client-id",
        "oidc-groups-claim",
        "oidc-groups-prefix",
        "oidc-issuer-url",
        "oidc-required-claim",
        "oidc-signing-algs",
        "oidc-username-claim",
        "oidc-username-prefix",
        "peer-advertise-ip",
        "peer-advertise-port",
        "peer-ca-file",
        "proxy-client-cert-file",
        "proxy-client-key-file",
        "request-timeout",
        "requestheader-allowed-names",
        "requestheader-client-ca-file",
        "requestheader-extra-headers-prefix",
        "requestheader-group-headers",
        "requestheader-username-headers",
        "runtime-config",
        "secure-port",
        "service-account-issuer",
        "service-account-jwks-uri",
        "service-account-key-file",
        "service-account-max-token-expiration",
        "service-account-signing-key-file",
        "service-cluster-ip-range",
        "service-node-port-range",
        "show-hidden-metrics-for-version",
        "shutdown-delay-duration",
        "shutdown-send-retry-after",
        "shutdown-watch-termination-grace-period",
        "storage-backend",
        "storage-media-type",
        "strict-transport-security-directives",
        "tls-cert-file",
        "tls-cipher-suites",
        "tls-min-version",
        "tls-private-key-file",
        "tls-sni-cert-key",
        "token-auth-file",
        "tracing-config-file",
        "v",
        "vmodule",
        "watch-cache-sizes",
    }
)

_SHORTHANDS = {"v": "v", "h": "help"}


class FlagError(Exception):
    """The command line is wrong; ``str()`` is what the real binary prints after ``Error: ``."""


@dataclass(frozen=True)
class Options:
    """The flags the emulator acts on (all others are accepted and ignored)."""

    advertise_address: str = ""
    bind_address: str = "0.0.0.0"
    secure_port: int = 6443
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    client_ca_file: str = ""
    etcd_servers: tuple[str, ...] = ()
    etcd_cafile: str = ""
    etcd_certfile: str = ""
    etcd_keyfile: str = ""
    etcd_prefix: str = "/registry"
    enable_bootstrap_token_auth: bool = False
    anonymous_auth: bool = True
    authorization_mode: tuple[str, ...] = ("AlwaysAllow",)
    service_cluster_ip_range: str = ""
    service_account_issuer: tuple[str, ...] = ()
    service_account_key_file: tuple[str, ...] = ()
    service_account_signing_key_file: str = ""
    help: bool = False
    version: bool = False
    raw: dict[str, list[str]] = field(default_factory=dict)

    def files_required(self) -> list[tuple[str, str]]:
        """(flag, path) pairs naming every file the emulator reads at start-up."""
        pairs = [
            ("--tls-cert-file", self.tls_cert_file),
            ("--tls-private-key-file", self.tls_private_key_file),
            ("--client-ca-file", self.client_ca_file),
            ("--etcd-cafile", self.etcd_cafile),
            ("--etcd-certfile", self.etcd_certfile),
            ("--etcd-keyfile", self.etcd_keyfile),
            ("--service-account-signing-key-file", self.service_account_signing_key_file),
        ]
        pairs += [("--service-account-key-file", p) for p in self.service_account_key_file]
        return [(flag, path) for flag, path in pairs if path]


def _split(argv: list[str]) -> dict[str, list[str]]:
    """pflag semantics: long flags with `=` or a following value, bools without one."""
    seen: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            continue  # kube-apiserver ignores positional arguments
        if arg.startswith("--"):
            body = arg[2:]
            name, eq, value = body.partition("=")
        else:
            body = arg[1:]
            short, value = body[:1], body[1:]
            eq = "=" if value else ""
            value = value.removeprefix("=")
            if short not in _SHORTHANDS:
                raise FlagError(f"unknown shorthand flag: '{short}' in {arg}")
            name = _SHORTHANDS[short]
        if name in KNOWN_BOOL_FLAGS:
            if not eq:
                value = "true"
            if value.lower() not in {"true", "false", "1", "0", "t", "f"}:
                raise FlagError(
                    f'invalid argument "{value}" for "--{name}" flag: '
                    f'strconv.ParseBool: parsing "{value}": invalid syntax'
                )
        elif name in KNOWN_VALUE_FLAGS:
            if not eq:
                if i >= len(argv):
                    raise FlagError(f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
        else:
            raise FlagError(f"unknown flag: --{name}")
        seen.setdefault(name, []).append(value)
    return seen


def _bool(raw: dict[str, list[str]], name: str, default: bool) -> bool:
    values = raw.get(name)
    if not values:
        return default
    return values[-1].lower() in {"true", "1", "t"}


def _last(raw: dict[str, list[str]], name: str, default: str = "") -> str:
    values = raw.get(name)
    return values[-1] if values else default


def _list(raw: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """String-slice flags: comma-separated and repeatable."""
    out: list[str] = []
    for value in raw.get(name, []):
        out += [part for part in value.split(",") if part]
    return tuple(out)


def parse_flags(argv: list[str]) -> Options:
    """Parse argv (without the program name) into :class:`Options` or raise :class:`FlagError`."""
    raw = _split(argv)
    port_text = _last(raw, "secure-port", "6443")
    try:
        port = int(port_text)
    except ValueError:
        raise FlagError(
            f'invalid argument "{port_text}" for "--secure-port" flag: '
            f'strconv.ParseInt: parsing "{port_text}": invalid syntax'
        ) from None
    opts = Options(
        advertise_address=_last(raw, "advertise-address"),
        bind_address=_last(raw, "bind-address", "0.0.0.0"),
        secure_port=port,
        tls_cert_file=_last(raw, "tls-cert-file"),
        tls_private_key_file=_last(raw, "tls-private-key-file"),
        client_ca_file=_last(raw, "client-ca-file"),
        etcd_servers=_list(raw, "etcd-servers"),
        etcd_cafile=_last(raw, "etcd-cafile"),
        etcd_certfile=_last(raw, "etcd-certfile"),
        etcd_keyfile=_last(raw, "etcd-keyfile"),
        etcd_prefix=_last(raw, "etcd-prefix", "/registry").rstrip("/") or "/registry",
        enable_bootstrap_token_auth=_bool(raw, "enable-bootstrap-token-auth", False),
        anonymous_auth=_bool(raw, "anonymous-auth", True),
        authorization_mode=_list(raw, "authorization-mode") or ("AlwaysAllow",),
        service_cluster_ip_range=_last(raw, "service-cluster-ip-range"),
        service_account_issuer=_list(raw, "service-account-issuer"),
        service_account_key_file=_list(raw, "service-account-key-file"),
        service_account_signing_key_file=_last(raw, "service-account-signing-key-file"),
        help=_bool(raw, "help", False),
        version=_bool(raw, "version", False),
        raw=raw,
    )
    return opts


def validate(opts: Options) -> list[str]:
    """Errors the real binary reports before serving (missing required flags and files)."""
    errors: list[str] = []
    if not opts.etcd_servers:
        errors.append("--etcd-servers must be specified")
    if not opts.service_account_issuer:
        errors.append("service-account-issuer is a required flag")
    if not opts.service_account_signing_key_file:
        errors.append("service-account-signing-key-file is a required flag")
    if not opts.tls_cert_file or not opts.tls_private_key_file:
        errors.append(
            "--tls-cert-file and --tls-private-key-file are required by the sealer lab emulator "
            "(it does not generate a self-signed serving certificate)"
        )
    if not opts.client_ca_file:
        errors.append("--client-ca-file is required by the sealer lab emulator")
    if not 0 < opts.secure_port < 65536:
        errors.append(f"--secure-port {opts.secure_port} must be between 1 and 65535, inclusive")
    for flag, path in opts.files_required():
        if not os.path.isfile(path):
            errors.append(f"open {path}: no such file or directory (from {flag})")
    return errors
