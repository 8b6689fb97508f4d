"""kubeadm configuration and the cluster PKI (pure: no SSH, no host access).

* :mod:`sealer.kube.pki` - CAs, leaves, kubeconfigs, file maps and a local writer;
* :mod:`sealer.kube.certcheck` - rows for ``sealer certs check`` from certificate bytes;
* :mod:`sealer.kube.kubeadm_config` - per-host kubeadm documents from the Clusterfile;
* :mod:`sealer.kube.kubeadm_schema` / :mod:`sealer.kube.validate` - the API types as data;
* :mod:`sealer.kube.joinparse` - parsers for kubeadm's join-command and certificate-key output;
* :mod:`sealer.layout` (not in this package) - where kubeadm and sealer keep files on a host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealer.lazy import lazy_exports

if TYPE_CHECKING:
    from sealer.kube.certcheck import FILES_TO_READ, CertRow, check_certificates
    from sealer.kube.joinparse import JoinCommand, parse_certificate_key, parse_join_command
    from sealer.kube.kubeadm_config import (
        JoinSecrets,
        KubeadmHostFacts,
        RenderedConfig,
        check_patches,
        kubeadm_api_version,
        render_cluster_configuration,
        render_kubeadm_config,
        upgrade_apply_argv,
        upgrade_node_argv,
    )
    from sealer.kube.pki import (
        ClusterCA,
        PkiFile,
        ca_cert_hash,
        issue_master_pki,
        renew_master_leaves,
        write_files,
    )
    from sealer.layout import KUBEADM_CONFIG_PATH, KUBEADM_RUN_CONFIG_PATH

__all__ = [
    "FILES_TO_READ",
    "KUBEADM_CONFIG_PATH",
    "KUBEADM_RUN_CONFIG_PATH",
    "CertRow",
    "ClusterCA",
    "JoinCommand",
    "JoinSecrets",
    "KubeadmHostFacts",
    "PkiFile",
    "RenderedConfig",
    "ca_cert_hash",
    "check_certificates",
    "check_patches",
    "issue_master_pki",
    "kubeadm_api_version",
    "parse_certificate_key",
    "parse_join_command",
    "render_cluster_configuration",
    "render_kubeadm_config",
    "renew_master_leaves",
    "upgrade_apply_argv",
    "upgrade_node_argv",
    "write_files",
]

# Imported on first use (sealer/lazy.py).
__getattr__ = lazy_exports(
    __name__,
    {
        "FILES_TO_READ": "sealer.kube.certcheck",
        "CertRow": "sealer.kube.certcheck",
        "check_certificates": "sealer.kube.certcheck",
        "JoinCommand": "sealer.kube.joinparse",
        "parse_certificate_key": "sealer.kube.joinparse",
        "parse_join_command": "sealer.kube.joinparse",
        "JoinSecrets": "sealer.kube.kubeadm_config",
        "KubeadmHostFacts": "sealer.kube.kubeadm_config",
        "RenderedConfig": "sealer.kube.kubeadm_config",
        "check_patches": "sealer.kube.kubeadm_config",
        "kubeadm_api_version": "sealer.kube.kubeadm_config",
        "render_cluster_configuration": "sealer.kube.kubeadm_config",
        "render_kubeadm_config": "sealer.kube.kubeadm_config",
        "upgrade_apply_argv": "sealer.kube.kubeadm_config",
        "upgrade_node_argv": "sealer.kube.kubeadm_config",
        "ClusterCA": "sealer.kube.pki",
        "PkiFile": "sealer.kube.pki",
        "ca_cert_hash": "sealer.kube.pki",
        "issue_master_pki": "sealer.kube.pki",
        "renew_master_leaves": "sealer.kube.pki",
        "write_files": "sealer.kube.pki",
        "KUBEADM_CONFIG_PATH": "sealer.layout",
        "KUBEADM_RUN_CONFIG_PATH": "sealer.layout",
    },
)
