"""``kubeadm`` command line: sub-commands and flags of the real one, with its error output."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from sealer_lab.emulate import kubeconfig, pki, runtime, versions
from sealer_lab.emulate.kubeadm import apiobjects, certs, kubeconfigs, upgrade
from sealer_lab.emulate.kubeadm.cluster import cluster_config
from sealer_lab.emulate.kubeadm.common import admin_client, ca_hash, say
from sealer_lab.emulate.kubeadm.config import Config, decode_documents, load_config
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.flags import BOOL, SLICE, STRING, FlagSet, Parsed
from sealer_lab.emulate.kubeadm.init import run_init
from sealer_lab.emulate.kubeadm.join import JoinRequest, run_join
from sealer_lab.emulate.kubeadm.reset import run_reset
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, kubeadm_version, resolve
from sealer_lab.emulate.kubeapi import ApiError

__all__ = ["main"]

HINT = "To see the stack trace of this error execute with --v=5 or higher"
ALLOWED_WITH_CONFIG = {
    "config",
    "ignore-preflight-errors",
    "dry-run",
    "kubeconfig",
    "node-name",
    "kubeconfig-dir",
    "upload-certs",
    "print-manifest",
    "allow-missing-template-keys",
    "output",
    "show-managed-fields",
    "print-join-command",
    "rootfs",
    "v",
    "log-file",
    "yes",
}

INIT_FLAGS = FlagSet(
    {
        "config": STRING,
        "upload-certs": BOOL,
        "skip-phases": SLICE,
        "ignore-preflight-errors": SLICE,
        "certificate-key": STRING,
        "dry-run": BOOL,
        "apiserver-advertise-address": STRING,
        "apiserver-bind-port": STRING,
        "apiserver-cert-extra-sans": SLICE,
        "cert-dir": STRING,
        "control-plane-endpoint": STRING,
        "cri-socket": STRING,
        "feature-gates": STRING,
        "image-repository": STRING,
        "kubernetes-version": STRING,
        "node-name": STRING,
        "patches": STRING,
        "pod-network-cidr": STRING,
        "service-cidr": STRING,
        "service-dns-domain": STRING,
        "skip-certificate-key-print": BOOL,
        "skip-token-print": BOOL,
        "token": STRING,
        "token-ttl": STRING,
    }
)
JOIN_FLAGS = FlagSet(
    {
        "config": STRING,
        "token": STRING,
        "discovery-token": STRING,
        "discovery-token-ca-cert-hash": SLICE,
        "discovery-token-unsafe-skip-ca-verification": BOOL,
        "control-plane": BOOL,
        "certificate-key": STRING,
        "apiserver-advertise-address": STRING,
        "apiserver-bind-port": STRING,
        "cri-socket": STRING,
        "discovery-file": STRING,
        "dry-run": BOOL,
        "ignore-preflight-errors": SLICE,
        "node-name": STRING,
        "patches": STRING,
        "skip-phases": SLICE,
        "tls-bootstrap-token": STRING,
    }
)
RESET_FLAGS = FlagSet(
    {
        "force": BOOL,
        "cert-dir": STRING,
        "cleanup-tmp-dir": BOOL,
        "cri-socket": STRING,
        "dry-run": BOOL,
        "ignore-preflight-errors": SLICE,
        "kubeconfig": STRING,
        "skip-phases": SLICE,
        "config": STRING,
    },
    {"f": "force"},
)
TOKEN_CREATE_FLAGS = FlagSet(
    {
        "print-join-command": BOOL,
        "ttl": STRING,
        "description": STRING,
        "usages": SLICE,
        "groups": SLICE,
        "config": STRING,
        "kubeconfig": STRING,
        "certificate-key": STRING,
        "dry-run": BOOL,
    }
)
UPLOAD_CERTS_FLAGS = FlagSet(
    {
        "upload-certs": BOOL,
        "certificate-key": STRING,
        "config": STRING,
        "kubeconfig": STRING,
        "skip-certificate-key-print": BOOL,
    }
)
UPGRADE_APPLY_FLAGS = FlagSet(
    {
        "yes": BOOL,
        "force": BOOL,
        "certificate-renewal": BOOL,
        "etcd-upgrade": BOOL,
        "config": STRING,
        "dry-run": BOOL,
        "ignore-preflight-errors": SLICE,
        "kubeconfig": STRING,
        "patches": STRING,
        "allow-experimental-upgrades": BOOL,
        "allow-release-candidate-upgrades": BOOL,
        "print-config": BOOL,
        "skip-phases": SLICE,
    },
    {"y": "yes", "f": "force"},
)
UPGRADE_NODE_FLAGS = FlagSet(
    {
        "certificate-renewal": BOOL,
        "etcd-upgrade": BOOL,
        "dry-run": BOOL,
        "kubeconfig": STRING,
        "ignore-preflight-errors": SLICE,
        "patches": STRING,
        "skip-phases": SLICE,
        "config": STRING,
    }
)
UPGRADE_PLAN_FLAGS = FlagSet(
    {
        "config": STRING,
        "kubeconfig": STRING,
        "ignore-preflight-errors": SLICE,
        "allow-experimental-upgrades": BOOL,
        "allow-release-candidate-upgrades": BOOL,
        "output": STRING,
        "print-config": BOOL,
    },
    {"o": "output"},
)
CERTS_FLAGS = FlagSet(
    {"cert-dir": STRING, "config": STRING, "kubeconfig": STRING, "output": STRING}, {"o": "output"}
)
CONFIG_IMAGES_FLAGS = FlagSet(
    {
        "config": STRING,
        "kubernetes-version": STRING,
        "image-repository": STRING,
        "cri-socket": STRING,
        "feature-gates": STRING,
        "output": STRING,
    },
    {"o": "output"},
)
VERSION_FLAGS = FlagSet({"output": STRING}, {"o": "output"})


def _mixed(p: Parsed) -> None:
    if "config" not in p.set:
        return
    bad = sorted(n for n in p.set if n not in ALLOWED_WITH_CONFIG and not n.startswith("skip-"))
    if bad:
        raise KubeadmError(f"can not mix '--config' with arguments [{' '.join(bad)}]")


def _no_args(p: Parsed, command: str) -> None:
    if p.args:
        raise KubeadmError(f'unknown command "{p.args[0]}" for "{command}"')


def cmd_version(argv: list[str]) -> int:
    p = VERSION_FLAGS.parse(argv)
    v = kubeadm_version()
    info = {
        "major": str(v.major),
        "minor": str(v.minor),
        "gitVersion": str(v),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-03-15T00:00:00Z",
        "goVersion": "go1.21.8",
        "compiler": "gc",
        "platform": "linux/amd64",
    }
    fmt = p.str("output")
    if fmt == "short":
        print(v)
    elif fmt == "json":
        print(json.dumps({"clientVersion": info}, indent=2))
    elif fmt == "yaml":
        print("clientVersion:\n" + "".join(f"  {k}: {val}\n" for k, val in info.items()), end="")
    elif fmt == "":
        print(
            f'kubeadm version: &version.Info{{Major:"{v.major}", Minor:"{v.minor}", '
            f'GitVersion:"{v}", GitCommit:"{info["gitCommit"]}", GitTreeState:"clean", '
            f'BuildDate:"{info["buildDate"]}", GoVersion:"go1.21.8", Compiler:"gc", '
            'Platform:"linux/amd64"}'
        )
    else:
        raise KubeadmError(f"invalid output format: {fmt}")
    return 0


def _init_config(p: Parsed) -> Config:
    if p.str("config"):
        return load_config(p.str("config"), kubeadm_version())
    cfg = Config()
    init: dict[str, Any] = {}
    cluster: dict[str, Any] = {}
    if p.str("apiserver-advertise-address") or p.str("apiserver-bind-port"):
        init["localAPIEndpoint"] = {"advertiseAddress": p.str("apiserver-advertise-address")}
        if p.str("apiserver-bind-port"):
            init["localAPIEndpoint"]["bindPort"] = int(p.str("apiserver-bind-port"))
    if p.str("node-name") or p.str("cri-socket"):
        init["nodeRegistration"] = {"name": p.str("node-name"), "criSocket": p.str("cri-socket")}
    if p.str("token"):
        init["bootstrapTokens"] = [{"token": p.str("token"), "ttl": p.str("token-ttl")}]
    for flag, key in (
        ("control-plane-endpoint", "controlPlaneEndpoint"),
        ("kubernetes-version", "kubernetesVersion"),
        ("image-repository", "imageRepository"),
        ("cert-dir", "certificatesDir"),
    ):
        if p.str(flag):
            cluster[key] = p.str(flag)
    net = {
        k: p.str(f)
        for f, k in (
            ("pod-network-cidr", "podSubnet"),
            ("service-cidr", "serviceSubnet"),
            ("service-dns-domain", "dnsDomain"),
        )
        if p.str(f)
    }
    if net:
        cluster["networking"] = net
    if p.list("apiserver-cert-extra-sans"):
        cluster["apiServer"] = {"certSANs": p.list("apiserver-cert-extra-sans")}
    cfg.init, cfg.cluster = init, cluster
    return cfg


def cmd_init(argv: list[str]) -> int:
    if argv and argv[0] == "phase":
        return cmd_init_phase(argv[1:])
    p = INIT_FLAGS.parse(argv)
    _no_args(p, "kubeadm init")
    _mixed(p)
    cfg = _init_config(p)
    s = resolve(cfg)
    s.skip_phases += p.list("skip-phases")
    s.ignore_preflight += p.list("ignore-preflight-errors")
    if p.str("certificate-key"):
        s.certificate_key = p.str("certificate-key")
    return run_init(
        s,
        upload_certs=p.bool("upload-certs"),
        skip_token_print=p.bool("skip-token-print"),
        skip_certificate_key_print=p.bool("skip-certificate-key-print"),
    )


def cmd_init_phase(argv: list[str]) -> int:
    if not argv:
        raise KubeadmError("required argument: phase name")
    phase, rest = argv[0], argv[1:]
    if phase != "upload-certs":
        raise KubeadmError(
            f'unknown command "{phase}" for "kubeadm init phase" (only upload-certs is emulated)'
        )
    p = UPLOAD_CERTS_FLAGS.parse(rest)
    _no_args(p, "kubeadm init phase upload-certs")
    if not p.bool("upload-certs"):
        say("[upload-certs] Skipping phase. Please see --upload-certs")
        return 0
    client = admin_client(Path(p.str("kubeconfig") or KUBE_DIR / "admin.conf"))
    try:
        cfg = cluster_config(client)
        s = resolve(
            Config(
                api_version=cfg.api_version,
                cluster=cfg.cluster,
                init={"localAPIEndpoint": {"advertiseAddress": "127.0.0.1"}},
            )
        )
        key = p.str("certificate-key") or apiobjects.generate_certificate_key()
        lines = apiobjects.upload_certs(client, s, key)
    except ApiError as exc:
        raise KubeadmError(f"error execution phase upload-certs: {exc.message}") from None
    if p.bool("skip-certificate-key-print"):
        lines = lines[:1]
    say(lines)
    return 0


def _join_config(p: Parsed) -> Config:
    if p.str("config"):
        cfg = load_config(p.str("config"), kubeadm_version())
        if not cfg.join:
            raise KubeadmError(
                f"no JoinConfiguration kind was found in the YAML file {p.str('config')}"
            )
        return cfg
    if len(p.args) > 1:
        raise KubeadmError(f'unknown command "{p.args[1]}" for "kubeadm join"')
    token = p.str("token")
    join: dict[str, Any] = {
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": p.args[0] if p.args else "",
                "token": p.str("discovery-token") or token,
                "caCertHashes": p.list("discovery-token-ca-cert-hash"),
                "unsafeSkipCAVerification": p.bool("discovery-token-unsafe-skip-ca-verification"),
            },
            "tlsBootstrapToken": p.str("tls-bootstrap-token") or token,
        },
        "nodeRegistration": {
            "name": p.str("node-name"),
            "criSocket": p.str("cri-socket"),
            "ignorePreflightErrors": p.list("ignore-preflight-errors"),
        },
    }
    if p.bool("control-plane"):
        endpoint: dict[str, Any] = {}
        if p.str("apiserver-advertise-address"):
            endpoint["advertiseAddress"] = p.str("apiserver-advertise-address")
        if p.str("apiserver-bind-port"):
            endpoint["bindPort"] = int(p.str("apiserver-bind-port"))
        join["controlPlane"] = {
            "localAPIEndpoint": endpoint,
            "certificateKey": p.str("certificate-key"),
        }
    elif p.str("certificate-key"):
        pass  # kubeadm ignores it without --control-plane
    return Config(join=join)


def cmd_join(argv: list[str]) -> int:
    p = JOIN_FLAGS.parse(argv)
    _mixed(p)
    cfg = _join_config(p)
    if p.str("config") and p.bool("control-plane") is False and "control-plane" in p.set:
        pass
    req = JoinRequest(cfg)
    return run_join(req)


def cmd_reset(argv: list[str]) -> int:
    p = RESET_FLAGS.parse(argv)
    _no_args(p, "kubeadm reset")
    return run_reset(
        force=p.bool("force"),
        cert_dir=Path(p.str("cert-dir") or KUBE_DIR / "pki"),
        skip_phases=tuple(p.list("skip-phases")),
    )


def cmd_token(argv: list[str]) -> int:
    if not argv or argv[0] not in ("create", "list", "delete", "generate"):
        raise KubeadmError(f'unknown command "{argv[0] if argv else ""}" for "kubeadm token"')
    verb, rest = argv[0], argv[1:]
    if verb == "generate":
        print(apiobjects.generate_token())
        return 0
    p = TOKEN_CREATE_FLAGS.parse(rest)
    client = admin_client(Path(p.str("kubeconfig") or KUBE_DIR / "admin.conf"))
    if verb == "list":
        secrets = client.get("/api/v1/namespaces/kube-system/secrets").get("items", [])
        print(
            "TOKEN                     TTL         EXPIRES                USAGES"
            "                   DESCRIPTION"
            "                                                EXTRA GROUPS"
        )
        import base64

        for sec in secrets:
            if sec.get("type") != "bootstrap.kubernetes.io/token":
                continue
            d = {k: base64.b64decode(v).decode() for k, v in (sec.get("data") or {}).items()}
            tok = f"{d.get('token-id', '')}.{d.get('token-secret', '')}"
            usages = ",".join(
                k.removeprefix("usage-bootstrap-")
                for k, v in d.items()
                if k.startswith("usage-bootstrap-") and v == "true"
            )
            print(
                f"{tok:<25} {'':<11} {d.get('expiration', '<forever>'):<22} {usages:<24} "
                f"{d.get('description', '<none>'):<58} {d.get('auth-extra-groups', '')}"
            )
        return 0
    if verb == "delete":
        for tok in p.args:
            tid = tok.split(".")[0]
            try:
                client.delete(f"/api/v1/namespaces/kube-system/secrets/bootstrap-token-{tid}")
            except ApiError as exc:
                raise KubeadmError(
                    f'failed to delete bootstrap token "{tid}": {exc.message}'
                ) from None
            print(f'bootstrap token "{tid}" deleted')
        return 0
    if len(p.args) > 1:
        raise KubeadmError(f'unknown command "{p.args[1]}" for "kubeadm token create"')
    _mixed(p)
    spec = _token_spec(p)
    token = spec["token"]
    if not apiobjects.TOKEN_RE.match(token):
        raise KubeadmError(
            f'the bootstrap token "{token}" was not of the form '
            '"^([a-z0-9]{6})\\.([a-z0-9]{16})$"'
        )
    try:
        apiobjects.create_token(
            client,
            token,
            ttl=spec["ttl"],
            description=spec["description"],
            usages=spec["usages"],
            groups=spec["groups"],
        )
    except ApiError as exc:
        raise KubeadmError(
            f"failed to create or update bootstrap token with name "
            f"bootstrap-token-{token.split('.')[0]}: {exc.message}"
        ) from None
    if not p.bool("print-join-command"):
        print(token)
        return 0
    server = client.server.removeprefix("https://")
    h = (
        ca_hash(KUBE_DIR / "pki")
        if (KUBE_DIR / "pki" / "ca.crt").is_file()
        else (pki.ca_cert_hash(_x509(client.ca_pem)))
    )
    line = f"kubeadm join {server} --token {token} --discovery-token-ca-cert-hash {h} "
    if p.str("certificate-key"):
        line += f"--control-plane --certificate-key {p.str('certificate-key')}"
    print(line)
    return 0


def _token_spec(p: Parsed) -> dict[str, Any]:
    """The token ``kubeadm token create`` makes: from ``--config`` (an InitConfiguration's
    first ``bootstrapTokens`` entry; the file wins over a token argument, as in kubeadm's
    LoadOrDefaultInitConfiguration) or from the argument and flags."""
    if p.str("config"):
        cfg = load_config(p.str("config"), kubeadm_version())
        tokens = cfg.init.get("bootstrapTokens") or [{}]
        first = dict(tokens[0])
        return {
            "token": str(first.get("token") or apiobjects.generate_token()),
            "ttl": str(first.get("ttl") or "24h0m0s"),
            "description": str(first.get("description") or ""),
            "usages": first.get("usages") or None,
            "groups": first.get("groups") or None,
        }
    return {
        "token": p.args[0] if p.args else apiobjects.generate_token(),
        "ttl": p.str("ttl") or "24h0m0s",
        "description": p.str("description"),
        "usages": p.list("usages") or None,
        "groups": p.list("groups") or None,
    }


def _x509(pem: bytes):  # type: ignore[no-untyped-def]
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem)


def _local_cert_settings(p: Parsed):  # type: ignore[no-untyped-def]
    client = None
    try:
        client = admin_client(Path(p.str("kubeconfig") or KUBE_DIR / "admin.conf"))
        cfg = cluster_config(client)
    except (KubeadmError, ApiError):
        cfg = Config()
    cfg.cluster = {**cfg.cluster, "kubernetesVersion": str(kubeadm_version())}
    s = resolve(
        Config(
            api_version=cfg.api_version,
            cluster=cfg.cluster,
            init={"localAPIEndpoint": {"advertiseAddress": "127.0.0.1"}},
        )
    )
    if p.str("cert-dir"):
        s.cert_dir = Path(p.str("cert-dir"))
    return s


def cmd_certs(argv: list[str]) -> int:
    if not argv or argv[0] not in ("check-expiration", "renew", "certificate-key"):
        raise KubeadmError(f'unknown command "{argv[0] if argv else ""}" for "kubeadm certs"')
    verb, rest = argv[0], argv[1:]
    if verb == "certificate-key":
        print(apiobjects.generate_certificate_key())
        return 0
    p = CERTS_FLAGS.parse(rest)
    s = _local_cert_settings(p)
    if verb == "check-expiration":
        return _check_expiration(s)
    names = p.args
    all_names = [
        "admin.conf",
        "super-admin.conf",
        *(leaf.name for leaf in certs.LEAVES),
        "controller-manager.conf",
        "scheduler.conf",
    ]
    if not names:
        raise KubeadmError('missing subcommand; "renew" is not meant to be run on its own')
    if names == ["all"]:
        names = all_names
    for name in names:
        if name not in all_names:
            raise KubeadmError(f'unknown command "{name}" for "kubeadm certs renew"')
    for name in names:
        if name.endswith(".conf"):
            done = kubeconfigs.renew_kubeconfig(s, KUBE_DIR / name)
        else:
            done = certs.renew(s, name)
        what = RENEW_WHAT[name]
        if done:
            say(f"{what} renewed")
        elif names != all_names:
            raise KubeadmError(f"{name} is not present")
    say(
        "\nDone renewing certificates. You must restart the kube-apiserver, "
        "kube-controller-manager, kube-scheduler and etcd, so that they can use the new "
        "certificates."
    )
    return 0


RENEW_WHAT = {
    "admin.conf": "certificate embedded in the kubeconfig file for the admin to use and for "
    "kubeadm itself",
    "super-admin.conf": "certificate embedded in the kubeconfig file for the super-admin",
    "apiserver": "certificate for serving the Kubernetes API",
    "apiserver-etcd-client": "certificate the apiserver uses to access etcd",
    "apiserver-kubelet-client": "certificate for the API server to connect to kubelet",
    "controller-manager.conf": "certificate embedded in the kubeconfig file for the controller "
    "manager to use",
    "etcd-healthcheck-client": "certificate for liveness probes to healthcheck etcd",
    "etcd-peer": "certificate for etcd nodes to communicate with each other",
    "etcd-server": "certificate for serving etcd",
    "front-proxy-client": "certificate for the front proxy client",
    "scheduler.conf": "certificate embedded in the kubeconfig file for the scheduler manager to "
    "use",
}


def _check_expiration(s: Any) -> int:
    say(
        [
            "[check-expiration] Reading configuration from the cluster...",
            "[check-expiration] FYI: You can look at this config file with 'kubectl -n kube-system "
            "get cm kubeadm-config -o yaml'",
            "",
        ]
    )
    rows = []
    for name in ("admin.conf", "super-admin.conf"):
        rows.append((name, KUBE_DIR / name, "ca", True))
    for leaf in certs.LEAVES:
        rows.append((leaf.name, s.cert_dir / f"{leaf.base}.crt", certs.CA_NAMES[leaf.ca], False))
    rows += [
        ("controller-manager.conf", KUBE_DIR / "controller-manager.conf", "ca", True),
        ("scheduler.conf", KUBE_DIR / "scheduler.conf", "ca", True),
    ]
    print(
        f"{'CERTIFICATE':<26} {'EXPIRES':<24} {'RESIDUAL TIME':<15} "
        f"{'CERTIFICATE AUTHORITY':<23} EXTERNALLY MANAGED"
    )
    for name, path, ca, is_conf in rows:
        if not path.is_file():
            continue
        if is_conf:
            pem = kubeconfig.load(path).cert_pem
            if not pem:
                continue
            cert = _x509(pem)
        else:
            cert = pki.load_cert(path)
        when = pki.not_after(cert)
        print(f"{name:<26} {_fmt(when):<24} {certs.residual(when):<15} {ca:<23} no")
    print()
    print(f"{'CERTIFICATE AUTHORITY':<23} {'EXPIRES':<24} {'RESIDUAL TIME':<15} EXTERNALLY MANAGED")
    for base, label in certs.CA_NAMES.items():
        path = s.cert_dir / f"{base}.crt"
        if path.is_file():
            when = pki.not_after(pki.load_cert(path))
            print(f"{label:<23} {_fmt(when):<24} {certs.residual(when):<15} no")
    return 0


def _fmt(when: dt.datetime) -> str:
    return when.strftime("%b %d, %Y %H:%M UTC")


def cmd_upgrade(argv: list[str]) -> int:
    if not argv or argv[0] not in ("plan", "apply", "node", "diff"):
        raise KubeadmError(f'unknown command "{argv[0] if argv else ""}" for "kubeadm upgrade"')
    verb, rest = argv[0], argv[1:]
    if verb == "plan":
        p = UPGRADE_PLAN_FLAGS.parse(rest)
        return upgrade.run_plan(admin_client(Path(p.str("kubeconfig") or KUBE_DIR / "admin.conf")))
    if verb == "apply":
        p = UPGRADE_APPLY_FLAGS.parse(rest)
        if not p.args:
            raise KubeadmError(
                "missing one or more required arguments. Required arguments: [version]"
            )
        if len(p.args) > 1:
            raise KubeadmError(f'unknown command "{p.args[1]}" for "kubeadm upgrade apply"')
        return upgrade.run_apply(
            p.args[0],
            yes=p.bool("yes"),
            force=p.bool("force"),
            renew=p.bool("certificate-renewal", True),
        )
    if verb == "node":
        p = UPGRADE_NODE_FLAGS.parse(rest)
        _no_args(p, "kubeadm upgrade node")
        return upgrade.run_node(renew=p.bool("certificate-renewal", True))
    raise KubeadmError('"kubeadm upgrade diff" is not emulated')


def cmd_config(argv: list[str]) -> int:
    if argv[:2] not in (["images", "list"], ["images", "pull"]):
        raise KubeadmError(
            f'unknown command "{" ".join(argv[:2])}" for "kubeadm config" (only images '
            "list/pull are emulated)"
        )
    p = CONFIG_IMAGES_FLAGS.parse(argv[2:])
    _no_args(p, f"kubeadm config images {argv[1]}")
    if p.str("config"):
        cfg = load_config(p.str("config"), kubeadm_version())
    else:
        cluster: dict[str, Any] = {}
        if p.str("kubernetes-version"):
            cluster["kubernetesVersion"] = p.str("kubernetes-version")
        if p.str("image-repository"):
            cluster["imageRepository"] = p.str("image-repository")
        cfg = Config(cluster=cluster)
    s = resolve(cfg)
    for image in versions.images(s.version, s.image_repository):
        print(image if argv[1] == "list" else f"[config/images] Pulled {image}")
    return 0


COMMANDS = {
    "config": cmd_config,
    "version": cmd_version,
    "init": cmd_init,
    "join": cmd_join,
    "reset": cmd_reset,
    "token": cmd_token,
    "certs": cmd_certs,
    "upgrade": cmd_upgrade,
}


def main(argv: list[str]) -> int:
    try:
        if not argv or argv[0] in ("-h", "--help", "help"):
            print(
                "Usage:\n  kubeadm [command]\n\nAvailable Commands:\n  "
                + "\n  ".join(sorted(COMMANDS))
            )
            return 0
        command = COMMANDS.get(argv[0])
        if command is None:
            raise KubeadmError(f'unknown command "{argv[0]}" for "kubeadm"')
        return command(argv[1:])
    except KubeadmError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"{exc.message}\n{HINT}\n")
        return 1
    except ApiError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"{exc.message}\n{HINT}\n")
        return 1


_ = (decode_documents, runtime)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
