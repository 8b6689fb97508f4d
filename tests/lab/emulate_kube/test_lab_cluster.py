"""A cluster built by hand on lab hosts with the emulated package, then taken apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests import waiting
from tests.lab.emulate_kube.conftest import (
    ETCDCTL,
    NEXT_VERSION,
    Kube,
    kubeadm_config,
    ready,
    ready_condition,
    wait_for,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]

HINT = "To see the stack trace of this error execute with --v=5 or higher"


@pytest.fixture(scope="module")
def cluster(kube: Kube) -> dict[str, str]:
    """master-1 initialised, master-2 joined as control plane, node-1 joined as worker."""
    lab = kube.lab
    m1, m2, n1 = lab.masters[0], lab.masters[1], lab.nodes[0]
    kube.ssh(m1.name, ["tee", "/root/kubeadm.yaml"], input=kubeadm_config(m1.address))
    init = kube.ssh(
        m1.name, ["kubeadm", "init", "--config", "/root/kubeadm.yaml", "--upload-certs"]
    )
    assert "Your Kubernetes control-plane has initialized successfully!" in init.stdout
    # no network add-on yet: the kubelet reports NotReady as the real one does, and the Node
    # carries the not-ready taint; the add-on's DaemonSet pod writes the CNI configuration
    not_ready = wait_for(
        lambda: (n := kube.nodes(m1.name).get(m1.name)) and ready_condition(n).get("reason") and n,
        what=f"{m1.name}'s Node with a Ready condition",
    )
    assert not_ready  # the wait returned the Node
    node = kube.nodes(m1.name)[m1.name]
    condition = ready_condition(node)
    assert (condition["status"], condition["reason"]) == ("False", "KubeletNotReady")
    assert condition["message"] == (
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
        "message:Network plugin returns error: cni plugin not initialized"
    )
    assert {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"} in [
        {k: t[k] for k in ("key", "effect")} for t in node["spec"]["taints"]
    ]
    assert kube.ssh(m1.name, ["ls", "-A", "/etc/cni/net.d"], check=False).stdout == ""
    kube.install_network(m1.name)
    key = re.search(r"--certificate-key ([0-9a-f]{64})", init.stdout)
    assert key is not None
    join = kube.ssh(m1.name, ["kubeadm", "token", "create", "--print-join-command"]).stdout
    argv = join.split()
    assert argv[:3] == ["kubeadm", "join", "apiserver.cluster.local:6443"]
    kube.ssh(
        m2.name,
        [
            *argv,
            "--control-plane",
            "--certificate-key",
            key.group(1),
            "--apiserver-advertise-address",
            m2.address,
        ],
    )
    # the worker discovers through master-1's address; kubeadm still bootstraps its kubelet
    # against the server that cluster-info names (see test_real_processes_ports_and_certificates)
    kube.ssh(n1.name, [*argv[:2], f"{m1.address}:6443", *argv[3:]])
    return {
        "m1": m1.name,
        "m2": m2.name,
        "m3": lab.masters[2].name,
        "n1": n1.name,
        "n2": lab.nodes[1].name,
        "join": join.strip(),
        "key": key.group(1),
        "m1_ip": m1.address,
        "n2_ip": lab.nodes[1].address,
    }


def test_three_ready_nodes_and_a_two_member_etcd(kube: Kube, cluster: dict[str, str]) -> None:
    names = {cluster["m1"], cluster["m2"], cluster["n1"]}
    assert wait_for(
        lambda: (
            (nodes := kube.nodes(cluster["m1"])).keys() == names
            and all(ready(n) for n in nodes.values())
        )
    )
    nodes = kube.nodes(cluster["m2"])
    for name in (cluster["m1"], cluster["m2"]):
        labels = nodes[name]["metadata"]["labels"]
        assert "node-role.kubernetes.io/control-plane" in labels
        assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in (
            nodes[name]["spec"]["taints"]
        )
    assert "node-role.kubernetes.io/control-plane" not in nodes[cluster["n1"]]["metadata"]["labels"]
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes.values()} == {"v1.29.3"}
    members = kube.ssh(cluster["m1"], [*ETCDCTL, "member", "list"]).stdout.splitlines()
    assert len(members) == 2 and all(", started, " in m for m in members)
    assert {m.split(", ")[2] for m in members} == {cluster["m1"], cluster["m2"]}


def test_each_node_is_ready_after_its_network_pod_ran(kube: Kube, cluster: dict[str, str]) -> None:
    """The DaemonSet put one calico-node pod on every node (each tolerates the not-ready
    taint), the kubelet ran it, its agent wrote the CNI configuration, then the node turned
    Ready: the pod started no later than the Ready transition."""
    names = {cluster["m1"], cluster["m2"], cluster["n1"]}
    pods = json.loads(
        kube.kubectl(
            cluster["m1"], "get", "pods", "-n", "kube-system", "-l", "k8s-app=calico-node",
            "-o", "json",
        ).stdout
    )["items"]  # fmt: skip
    by_node = {p["spec"]["nodeName"]: p for p in pods}
    assert set(by_node) == names and len(pods) == len(names)
    nodes = kube.nodes(cluster["m1"])
    for name in names:
        pod = wait_for(
            lambda name=name: (
                (p := kube.pod(cluster["m1"], by_node[name]["metadata"]["name"]))["status"].get(
                    "phase"
                )
                == "Running"
                and p
            ),
            what=f"the calico-node pod on {name} Running",
        )
        assert pod
        running = kube.pod(cluster["m1"], by_node[name]["metadata"]["name"])
        became_ready = ready_condition(nodes[name])["lastTransitionTime"]
        assert running["status"]["startTime"] <= became_ready, (name, running["status"])
        assert "node.kubernetes.io/not-ready" not in json.dumps(nodes[name]["spec"])
        conf = json.loads(kube.ssh(name, ["cat", "/etc/cni/net.d/10-calico.conflist"]).stdout)
        assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/16"}]]


def test_real_processes_ports_and_certificates(kube: Kube, cluster: dict[str, str]) -> None:
    # the join waits for etcd only: the other static pods listen when the kubelet got them up
    ports = (":6443 ", ":2379 ", ":2380 ", ":10250 ", ":10257 ", ":10259 ")
    wait_for(
        lambda: all(p in kube.ssh(cluster["m2"], ["ss", "-ltnH"]).stdout for p in ports),
        timeout=120,
        what=f"ports {ports} listening on {cluster['m2']}",
    )
    assert "/usr/bin/etcd" in kube.ssh(cluster["m2"], ["ps", "-eo", "args"]).stdout
    exp = kube.ssh(cluster["m1"], ["kubeadm", "certs", "check-expiration"]).stdout
    assert re.search(r"^apiserver\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+36[45]d\s+ca\s+no", exp, re.M)
    assert re.search(r"^ca\s+.*\s+9y\s+no", exp, re.M)
    assert re.search(r"^etcd-ca\s+.*\s+9y\s+no", exp, re.M)
    kubelet_conf = kube.ssh(cluster["n1"], ["cat", "/etc/kubernetes/kubelet.conf"]).stdout
    assert "/var/lib/kubelet/pki/kubelet-client-current.pem" in kubelet_conf
    # the controlPlaneEndpoint from cluster-info, not the address n1 discovered through: the
    # kubelet follows /etc/hosts (sealer points it at the VIP, or a master at itself)
    assert "server: https://apiserver.cluster.local:6443\n" in kubelet_conf, kubelet_conf


def test_init_on_an_initialised_host_fails_preflight(kube: Kube, cluster: dict[str, str]) -> None:
    out = kube.ssh(
        cluster["m1"], ["kubeadm", "init", "--config", "/root/kubeadm.yaml"], check=False
    )
    assert out.returncode == 1
    assert "error execution phase preflight: [preflight] Some fatal errors occurred:" in out.stderr
    assert "[ERROR Port-6443]: Port 6443 is in use" in out.stderr
    assert (
        "[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: "
        "/etc/kubernetes/manifests/kube-apiserver.yaml already exists"
    ) in out.stderr
    assert "[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty" in out.stderr
    assert out.stderr.rstrip().endswith(HINT)


def _join(kube: Kube, host: str, *argv: str) -> str:
    out = kube.ssh(host, ["kubeadm", "join", *argv], check=False)
    assert out.returncode == 1, out.stdout
    assert out.stderr.rstrip().endswith(HINT)
    return out.stderr


def test_join_failures_use_kubeadm_messages(kube: Kube, cluster: dict[str, str]) -> None:
    m3 = cluster["m3"]
    argv = cluster["join"].split()[2:]
    endpoint, token = argv[0], argv[2]
    good_hash = argv[4]
    wrong_hash = "sha256:" + "0" * 64
    err = _join(kube, m3, endpoint, "--token", token, "--discovery-token-ca-cert-hash", wrong_hash)
    assert (
        "couldn't validate the identity of the API Server: cluster CA found in cluster-info "
        "ConfigMap is invalid: none of the public keys"
    ) in err
    assert "are pinned" in err
    unknown = "zzzzzz.0123456789abcdef"
    err = _join(kube, m3, endpoint, "--token", unknown, "--discovery-token-ca-cert-hash", good_hash)
    assert (
        'could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"' in err
    )
    forged = token.split(".")[0] + ".0123456789abcdef"
    err = _join(kube, m3, endpoint, "--token", forged, "--discovery-token-ca-cert-hash", good_hash)
    assert "failed to verify JWS signature of received cluster info object" in err
    err = _join(
        kube,
        m3,
        f"{cluster['n2_ip']}:6443",
        "--token",
        token,
        "--discovery-token-ca-cert-hash",
        good_hash,
    )
    assert f"dial tcp {cluster['n2_ip']}:6443: connect: connection refused" in err
    err = _join(
        kube,
        m3,
        endpoint,
        "--token",
        token,
        "--discovery-token-ca-cert-hash",
        good_hash,
        "--control-plane",
    )
    assert (
        "One or more conditions for hosting a new control plane instance is not satisfied."
    ) in err
    assert "failure loading certificate for CA" in err
    err = _join(kube, m3, endpoint, "--token", "bad", "--discovery-token-ca-cert-hash", good_hash)
    assert 'discovery.bootstrapToken.token: Invalid value: "bad"' in err
    err = _join(kube, m3, endpoint, "--token", token)
    assert "using token-based discovery without caCertHashes can be unsafe" in err
    err = _join(kube, m3, endpoint, "--tokn", token)
    assert err.splitlines()[0] == "unknown flag: --tokn"
    n2 = cluster["n2"]
    err = _join(
        kube,
        n2,
        endpoint,
        "--token",
        token,
        "--discovery-token-ca-cert-hash",
        good_hash,
        "--node-name",
        cluster["m1"],
    )
    assert (
        f'a Node with name "{cluster["m1"]}" and status "Ready" already exists in the '
        "cluster. You must delete the existing Node or change the name of this new "
        "joining Node"
    ) in err
    kube.ssh(n2, ["kubeadm", "reset", "-f"])
    # nothing was left behind by the failed joins
    listing = kube.ssh(m3, ["ls", "-A", "/etc/kubernetes/manifests", "/var/lib/etcd"]).stdout
    assert listing.split() == ["/etc/kubernetes/manifests:", "/var/lib/etcd:"]
    assert kube.ssh(m3, ["test", "-e", "/etc/kubernetes/kubelet.conf"], check=False).returncode


def test_config_errors(kube: Kube, cluster: dict[str, str]) -> None:
    m3 = cluster["m3"]
    bad = kubeadm_config("10.0.0.1").replace("bindPort: 6443", 'bindPort: "6443x"')
    kube.ssh(m3, ["tee", "/root/kubeadm.yaml"], input=bad)
    out = kube.ssh(m3, ["kubeadm", "init", "--config", "/root/kubeadm.yaml"], check=False)
    assert out.returncode == 1
    assert (
        "json: cannot unmarshal string into Go struct field APIEndpoint.localAPIEndpoint."
        "bindPort of type int32"
    ) in out.stderr
    out = kube.ssh(
        m3,
        ["kubeadm", "init", "--config", "/root/kubeadm.yaml", "--token", "abcdef.0123456789abcdef"],
        check=False,
    )
    assert "can not mix '--config' with arguments [token]" in out.stderr


TOKEN_CONFIG = """apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens:
- token: q7x2ka.5b0c9d8e7f6a5b4c
  ttl: 1h0m0s
  description: from a file
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
"""


def test_token_create_reads_the_token_from_a_config_file_and_delete_removes_it(
    kube: Kube, cluster: dict[str, str]
) -> None:
    m1 = cluster["m1"]
    kube.ssh(m1, ["tee", "/root/token.yaml"], input=TOKEN_CONFIG)
    mixed = kube.ssh(
        m1, ["kubeadm", "token", "create", "--config", "/root/token.yaml", "--ttl", "2h"],
        check=False,
    )  # fmt: skip
    assert mixed.returncode == 1
    assert "can not mix '--config' with arguments [ttl]" in mixed.stderr
    join = kube.ssh(
        m1, ["kubeadm", "token", "create", "--config", "/root/token.yaml", "--print-join-command"]
    ).stdout.split()
    assert join[:5] == ["kubeadm", "join", "apiserver.cluster.local:6443", "--token",
                        "q7x2ka.5b0c9d8e7f6a5b4c"]  # fmt: skip
    listed = kube.ssh(m1, ["kubeadm", "token", "list"]).stdout
    assert "q7x2ka.5b0c9d8e7f6a5b4c" in listed and "from a file" in listed
    gone = kube.ssh(m1, ["kubeadm", "token", "delete", "--", "q7x2ka"]).stdout
    assert gone.strip() == 'bootstrap token "q7x2ka" deleted'
    assert "q7x2ka" not in kube.ssh(m1, ["kubeadm", "token", "list"]).stdout
    kube.ssh(m1, ["rm", "-f", "/root/token.yaml"])


def test_upload_certs_phase_prints_the_key(kube: Kube, cluster: dict[str, str]) -> None:
    out = kube.ssh(cluster["m1"], ["kubeadm", "init", "phase", "upload-certs", "--upload-certs"])
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == "[upload-certs] Using certificate key:"
    assert re.fullmatch(r"[0-9a-f]{64}", lines[-1])


def test_control_plane_join_with_a_join_configuration(kube: Kube, cluster: dict[str, str]) -> None:
    m1, m3 = cluster["m1"], cluster["m3"]
    key = kube.ssh(m1, ["kubeadm", "init", "phase", "upload-certs", "--upload-certs"])
    argv = cluster["join"].split()
    address = next(h.address for h in kube.lab.hosts if h.name == m3)
    config = f"""apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: {argv[2]}
    token: {argv[4]}
    caCertHashes: [{argv[6]}]
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
controlPlane:
  localAPIEndpoint:
    advertiseAddress: {address}
    bindPort: 6443
  certificateKey: {key.stdout.strip().splitlines()[-1]}
"""
    kube.ssh(m3, ["tee", "/root/join.yaml"], input=config)
    out = kube.ssh(m3, ["kubeadm", "join", "--config", "/root/join.yaml"])
    assert "This node has joined the cluster and a new control plane instance was created" in (
        out.stdout
    )
    members = kube.ssh(m3, [*ETCDCTL, "member", "list"]).stdout.splitlines()
    assert len(members) == 3 and all(", started, " in m for m in members)
    assert wait_for(lambda: ready(kube.nodes(m1)[m3]))


def test_certs_renew_signs_a_new_certificate(kube: Kube, cluster: dict[str, str]) -> None:
    m1 = cluster["m1"]
    serial = ["openssl", "x509", "-noout", "-serial", "-in", "/etc/kubernetes/pki/apiserver.crt"]
    before = kube.ssh(m1, serial).stdout
    out = kube.ssh(m1, ["kubeadm", "certs", "renew", "apiserver"])
    assert "certificate for serving the Kubernetes API renewed" in out.stdout
    assert kube.ssh(m1, serial).stdout != before
    out = kube.ssh(m1, ["kubeadm", "certs", "renew", "nope"], check=False)
    assert 'unknown command "nope" for "kubeadm certs renew"' in out.stderr


def test_upgrade_one_minor_keeping_certificates(
    kube: Kube, cluster: dict[str, str], next_package: Path
) -> None:
    m1, m2, m3, n1 = cluster["m1"], cluster["m2"], cluster["m3"], cluster["n1"]
    sha = ["sha256sum", "/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/admin.conf"]
    before = kube.ssh(m1, sha).stdout
    refused = kube.ssh(m1, ["kubeadm", "upgrade", "apply", NEXT_VERSION, "-y"], check=False)
    assert "is higher than the kubeadm version" in refused.stderr
    # skew rules, strictly: a worker's kubeadm and kubelet may not go first
    kube.install(n1, cluster["m1_ip"], next_package)
    refused = kube.ssh(n1, ["kubeadm", "upgrade", "node"], check=False)
    assert "the control plane has not been upgraded yet" in refused.stderr
    kube.ssh(n1, ["systemctl", "restart", "kubelet"])
    journal = ["journalctl", "-u", "kubelet", "--no-pager"]
    assert wait_for(
        lambda: "the kubelet is newer than the API server" in kube.ssh(n1, journal).stdout,
        timeout=120,
    )
    kube.install(m1, cluster["m1_ip"], next_package)
    refused = kube.ssh(m1, ["kubeadm", "upgrade", "apply", "v1.31.0", "-y"], check=False)
    assert "kubeadm can upgrade only 1 minor version at a time" in refused.stderr
    refused = kube.ssh(m1, ["kubeadm", "upgrade", "apply", "v1.28.0", "-y"], check=False)
    assert "Downgrades are not supported" in refused.stderr
    plan = kube.ssh(m1, ["kubeadm", "upgrade", "plan"]).stdout
    assert f"kubeadm upgrade apply {NEXT_VERSION}" in plan
    out = kube.ssh(
        m1, ["kubeadm", "upgrade", "apply", NEXT_VERSION, "--certificate-renewal=false", "-y"]
    )
    assert f'SUCCESS! Your cluster was upgraded to "{NEXT_VERSION}"' in out.stdout
    assert kube.ssh(m1, sha).stdout == before
    version = kube.kubectl(m1, "version", "-o", "json").stdout
    assert f'"gitVersion": "{NEXT_VERSION}"' in version
    for host in (m1, m2, m3, n1):
        if host != m1:
            kube.install(host, cluster["m1_ip"], next_package)
            kube.ssh(host, ["kubeadm", "upgrade", "node", "--certificate-renewal=false"])
        kube.ssh(host, ["systemctl", "restart", "kubelet"])
    assert wait_for(
        lambda: (
            {n["status"]["nodeInfo"]["kubeletVersion"] for n in kube.nodes(m1).values()}
            == {NEXT_VERSION}
        )
    )
    assert wait_for(lambda: all(ready(n) for n in kube.nodes(m1).values()))


def test_a_stopped_kubelet_makes_its_node_not_ready(kube: Kube, cluster: dict[str, str]) -> None:
    n1 = cluster["n1"]
    kube.ssh(n1, ["systemctl", "stop", "kubelet"])
    try:
        assert kube.ssh(n1, ["systemctl", "is-active", "kubelet"], check=False).stdout.strip() == (
            "inactive"
        )
        assert wait_for(lambda: not ready(kube.nodes(cluster["m1"])[n1]), timeout=120)
    finally:
        kube.ssh(n1, ["systemctl", "start", "kubelet"])
    assert wait_for(lambda: ready(kube.nodes(cluster["m1"])[n1]), timeout=60)


def test_a_kubelet_does_not_start_without_its_container_runtime(
    kube: Kube, cluster: dict[str, str]
) -> None:
    """As the real kubelet: it validates its runtime endpoint at start and exits when nothing
    answers there (systemd restarts it every 10 s); once containerd is back it starts."""
    n1 = cluster["n1"]
    # n1 joined with flags only: kubeadm's default criSocket, as kubeadm-flags.env says
    flags = kube.ssh(n1, ["cat", "/var/lib/kubelet/kubeadm-flags.env"]).stdout
    endpoint = flags.split("--container-runtime-endpoint=", 1)[1].split()[0].strip('"')
    assert endpoint == "unix:///var/run/containerd/containerd.sock"
    refused = (
        '"command failed" err="failed to run Kubelet: validate service connection: validate '
        f'CRI v1 runtime API for endpoint \\"{endpoint}\\": rpc error: code = Unavailable'
    )
    crictl = ["crictl", "--runtime-endpoint", endpoint, "info"]
    kube.ssh(n1, ["systemctl", "stop", "containerd"])
    try:
        info = kube.ssh(n1, crictl, check=False)
        assert info.returncode == 1 and "connect: no such file or directory" in info.stderr
        kube.ssh(n1, ["systemctl", "restart", "kubelet"])
        journal = ["journalctl", "-u", "kubelet", "--no-pager"]
        assert wait_for(lambda: refused in kube.ssh(n1, journal).stdout, timeout=120)
    finally:
        kube.ssh(n1, ["systemctl", "start", "containerd"])
    assert kube.ssh(n1, crictl).returncode == 0  # Type=notify: the socket answers at once
    assert wait_for(
        lambda: (
            kube.ssh(n1, ["systemctl", "is-active", "kubelet"], check=False).stdout.strip()
            == "active"
            and ready(kube.nodes(cluster["m1"])[n1])
        ),
        timeout=120,
    )


def test_lab_reboot_brings_the_control_plane_back(kube: Kube, cluster: dict[str, str]) -> None:
    import sealer_lab

    sealer_lab.reboot(kube.lab.name, cluster["m1"])
    assert wait_for(
        lambda: (
            kube.kubectl(cluster["m1"], "get", "--raw", "/healthz", check=False).stdout.strip()
            == "ok"
        ),
        timeout=120,
    )
    assert kube.ssh(cluster["m1"], ["systemctl", "is-active", "kubelet"]).stdout.strip() == (
        "active"
    )
    assert wait_for(lambda: ready(kube.nodes(cluster["m1"])[cluster["m1"]]), timeout=60)


def test_drain_delete_and_reset(kube: Kube, cluster: dict[str, str]) -> None:
    m1, m2, n1 = cluster["m1"], cluster["m2"], cluster["n1"]
    kube.kubectl(m1, "drain", n1, "--ignore-daemonsets", "--delete-emptydir-data", "--force")
    assert kube.nodes(m1)[n1]["spec"].get("unschedulable") is True
    kube.kubectl(m1, "delete", "node", n1)
    reset = kube.ssh(n1, ["kubeadm", "reset", "-f"])
    assert "[reset] Stopping the kubelet service" in reset.stdout
    assert kube.ssh(n1, ["systemctl", "is-active", "kubelet"], check=False).stdout.strip() == (
        "inactive"
    )
    assert kube.ssh(n1, ["ls", "-A", "/etc/kubernetes/pki"]).stdout == ""
    assert set(kube.nodes(m1)) == {m1, m2, cluster["m3"]}
    # the reset asks m2's own etcd to remove its member: that etcd must be serving (it was
    # restarted by the upgrade's new manifest and the kubelet's restart, and m1 just rebooted)
    health = [*ETCDCTL, "--command-timeout", "5s", "endpoint", "health"]
    pod_log = f"/var/lib/kubelet/pod-logs/kube-system_etcd-{m2}.log"

    def m2_etcd_story() -> str:
        said = kube.ssh(m2, health, check=False)
        log = kube.ssh(m2, ["tail", "-n", "30", pod_log], check=False).stdout
        pods = kube.ssh(m2, ["cat", "/var/lib/kubelet/emulate/pods.json"], check=False).stdout
        return f"m2's etcd to serve: {said.stdout}{said.stderr}\nkubelet pods: {pods}\n{log}"

    def m2_etcd_serves() -> bool:
        return kube.ssh(m2, health, check=False).returncode == 0

    waiting.wait_for(m2_etcd_story, m2_etcd_serves, timeout=120, interval=1)
    reset = kube.ssh(m2, ["kubeadm", "reset", "-f"])
    assert "Removing info for node from etcd" in reset.stdout, reset.stdout + reset.stderr
    members = kube.ssh(m1, [*ETCDCTL, "member", "list"]).stdout.splitlines()
    assert len(members) == 2 and m2 not in " ".join(members)
    assert "/usr/bin/etcd" not in kube.ssh(m2, ["ps", "-eo", "args"]).stdout
    kube.kubectl(m1, "delete", "node", m2)
    m3 = cluster["m3"]
    bogus = kube.ssh(m3, ["kubeadm", "reset", "-f", "--skip-phases=remove-member"], check=False)
    assert bogus.returncode != 0
    assert 'invalid phase name "remove-member"' in bogus.stderr
    # as sealer does: the member removed through another master, then a reset without
    # kubeadm's own removal phase, which (as real kubeadm's) leaves the etcd data dir
    mine = [m for m in kube.ssh(m1, [*ETCDCTL, "member", "list"]).stdout.splitlines() if m3 in m]
    kube.ssh(m1, [*ETCDCTL, "member", "remove", mine[0].split(",")[0]])
    reset = kube.ssh(m3, ["kubeadm", "reset", "-f", "--skip-phases=remove-etcd-member"])
    assert "etcd" not in reset.stdout + reset.stderr
    assert kube.ssh(m3, ["ls", "/var/lib/etcd"]).stdout.split() == ["member"]
    assert kube.ssh(m3, ["ls", "-A", "/etc/kubernetes/manifests"]).stdout == ""
    members = kube.ssh(m1, [*ETCDCTL, "member", "list"]).stdout.splitlines()
    assert len(members) == 1 and m1 in members[0]
    reset = kube.ssh(m1, ["kubeadm", "reset", "-f"])
    assert kube.ssh(
        m1, ["ls", "-A", "/etc/kubernetes/manifests", "/var/lib/etcd"]
    ).stdout.split() == ["/etc/kubernetes/manifests:", "/var/lib/etcd:"]
