"""A node in a network namespace with three stand-in masters, for tests and bench/lb_failover.py.

Everything here is real: ``ip netns``, an nftables ruleset in that namespace, HTTPS servers
with certificates made by ``cryptography``, the sealer-care daemon run with ``ip netns exec``.
Every process is started by this code and stopped by its pid; the namespace is deleted in
:meth:`NetLab.close`, which callers put in a ``finally``/fixture finalizer.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sealer.lb import care_script_source, parse_nft_ruleset, render_config
from tests.waiting import wait_for

HERE = Path(__file__).resolve().parent
SERVER_SCRIPT = HERE / "readyz_server.py"
VIP = "10.103.97.2"
PORT = 6443
MASTERS = ("10.200.97.11", "10.200.97.12", "10.200.97.13")
LINK = "slb0"
PY38 = Path("/root/.pyenv/versions/3.8.18/bin/python3.8")


def daemon_python() -> str:
    """Run the daemon with Python 3.8 when this machine has it (its oldest supported version)."""
    return str(PY38) if PY38.exists() else sys.executable


def lab_available() -> str | None:
    """Why the namespace tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "nft", "curl"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path, sans: Sequence[str], name: str = "apiserver") -> Pki:
    """A CA and one server certificate whose SANs are ``sans`` (IP addresses), like kubeadm's."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(a)) for a in sans]
                + [x509.DNSName("apiserver.cluster.local")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(directory / "ca.crt", directory / f"{name}.crt", directory / f"{name}.key")
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pki.key.chmod(0o600)
    return pki


@dataclass
class NetLab:
    """A network namespace standing for one node, with three masters and the care daemon."""

    workdir: Path
    name: str = field(default_factory=lambda: "slb-" + uuid.uuid4().hex[:10])
    masters: tuple[str, ...] = MASTERS
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    daemon: subprocess.Popen[bytes] | None = None
    created: bool = False
    pki: Pki | None = None

    # -- namespace ----------------------------------------------------------------------------

    def ns(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(
        self, *argv: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.ns(*argv), input=stdin, capture_output=True, text=True, timeout=60, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} exited {done.returncode}: {done.stderr.strip()}")
        return done

    def create(self) -> NetLab:
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=30)
        self.created = True
        self.run("ip", "link", "set", "lo", "up")
        if self.run("ip", "link", "add", LINK, "type", "dummy", check=False).returncode != 0:
            self.run("ip", "link", "add", LINK, "type", "bridge")  # kernels without dummy
        self.run("ip", "link", "set", LINK, "up")
        self.run("ip", "addr", "add", "10.200.97.1/24", "dev", LINK)
        for master in self.masters:
            self.run("ip", "addr", "add", f"{master}/32", "dev", LINK)
        # a node always has a route to the VIP (its default route); DNAT in the output hook
        # happens after that route lookup
        self.run("ip", "route", "add", "default", "dev", LINK)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.workdir / "pki", [*self.masters, VIP])
        (self.workdir / "sealer-care").write_bytes(care_script_source())
        return self

    def close(self) -> None:
        if self.daemon is not None:
            self._stop(self.daemon)
        for server in self.servers.values():
            self._stop(server)
        if self.created:
            subprocess.run(["ip", "netns", "del", self.name], check=False, timeout=30)
            self.created = False

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)

    # -- stand-in masters ---------------------------------------------------------------------

    def status_file(self, master: str) -> Path:
        return self.workdir / f"status-{master}"

    def start_server(self, master: str) -> None:
        assert self.pki is not None
        ready = self.workdir / f"ready-{master}"
        ready.unlink(missing_ok=True)
        proc = subprocess.Popen(
            self.ns(
                sys.executable,
                str(SERVER_SCRIPT),
                master,
                str(PORT),
                str(self.pki.cert),
                str(self.pki.key),
                str(self.status_file(master)),
                str(ready),
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.servers[master] = proc
        wait_for(f"server {master} listening", lambda: True if ready.exists() else None)

    def stop_server(self, master: str) -> None:
        self._stop(self.servers.pop(master))

    def set_status(self, master: str, status: int) -> None:
        self.status_file(master).write_text(f"{status}\n")

    # -- the daemon ---------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.workdir / "care.json"

    @property
    def log_path(self) -> Path:
        return self.workdir / "care.log"

    def write_config(self, masters: Sequence[str] | None = None, **settings: float) -> None:
        assert self.pki is not None
        timing: dict[str, float] = {"interval": 1.0, "timeout": 0.9, "fall": 2, "rise": 2}
        timing.update(settings)
        text = render_config(
            VIP,
            list(masters or self.masters),
            port=PORT,
            ca_file=str(self.pki.ca),
            interval=timing["interval"],
            timeout=timing["timeout"],
            fall=int(timing["fall"]),
            rise=int(timing["rise"]),
            backend="nftables",
        )
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.config_path)  # atomic, as sealer writes it

    def care_argv(self, *extra: str) -> list[str]:
        program = str(self.workdir / "sealer-care")
        return self.ns(daemon_python(), program, "--config", str(self.config_path), *extra)

    def start_daemon(self, env: dict[str, str] | None = None) -> None:
        with self.log_path.open("ab") as log:
            self.daemon = subprocess.Popen(
                self.care_argv(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=None if env is None else {**os.environ, **env},
            )

    def stop_daemon(self, sig: int = signal.SIGTERM) -> int:
        assert self.daemon is not None
        self.daemon.send_signal(sig)
        code = self.daemon.wait(timeout=30)
        self.daemon = None
        return code

    def log_lines(self) -> list[str]:
        if not self.log_path.exists():
            return []
        return self.log_path.read_text().splitlines()

    # -- facts and traffic --------------------------------------------------------------------

    def rules(self) -> list[str] | None:
        """Backends in ``table ip sealer_care``, or None when the table does not exist."""
        done = self.run("nft", "-j", "list", "table", "ip", "sealer_care", check=False)
        if done.returncode != 0:
            assert "No such file or directory" in done.stderr, done.stderr
            return None
        return parse_nft_ruleset(done.stdout)

    def wait_rules(self, wanted: Sequence[str] | None) -> None:
        want = None if wanted is None else sorted(wanted)

        def check() -> bool | None:
            now = self.rules()
            return True if (None if now is None else sorted(now)) == want else None

        wait_for(lambda: f"rules == {want} (now {self.rules()})", check)

    def wait_logged(self, text: str) -> str:
        """Wait until a line of the daemon's log contains ``text``; that line."""

        def check() -> str | None:
            return next((line for line in self.log_lines() if text in line), None)

        return wait_for(lambda: f"a log line with {text!r} (now {self.dump()})", check)

    def curl_vip(self, path: str = "/readyz", timeout: float = 3.0) -> tuple[int, str]:
        """One request through the VIP from inside the node: (HTTP status or 0, body)."""
        assert self.pki is not None
        done = self.run(
            "curl",
            "-sS",
            "--max-time",
            str(timeout),
            "--cacert",
            str(self.pki.ca),
            "-w",
            "\n%{http_code}",
            f"https://{VIP}:{PORT}{path}",
            check=False,
        )
        body, _, code = done.stdout.rpartition("\n")
        return (int(code) if code.isdigit() else 0), body

    def nft_json(self) -> str:
        return self.run("nft", "-j", "list", "table", "ip", "sealer_care").stdout

    def dump(self) -> str:
        return json.dumps({"log": self.log_lines(), "rules": self.rules()}, indent=1)
