"""A real Kubernetes API server on loopback: etcd plus kube-apiserver, built by `make tools`.

On its own it stores and validates objects exactly as a cluster's API server does (built-in
types, admission, CRD schemas); controlplane.py adds controllers, a scheduler and a simulated
node where a test needs objects to converge. Certificates
are made at start with openssl (a throw-away CA, a server certificate for 127.0.0.1 and a
client certificate in group system:masters); every port is a free one on 127.0.0.1; both
processes are stopped when the context ends, whatever happened, and their logs are shown
when they do not come up.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ..alertmanager_proc import free_port, spawn, stop
from ..gotools import built_tool

_OPENSSL_DAYS = "2"


@dataclass(frozen=True)
class ApiServer:
    url: str
    ca: Path
    client_cert: Path
    client_key: Path
    kubeconfig: Path
    etcd_log: Path
    log: Path

    def session(self) -> requests.Session:
        session = requests.Session()
        # Otherwise REQUESTS_CA_BUNDLE (and proxies) from the environment override `verify`.
        session.trust_env = False
        session.verify = str(self.ca)
        session.cert = (str(self.client_cert), str(self.client_key))
        return session


def _openssl(*args: str, cwd: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl not found on PATH: install Debian's openssl package")
    subprocess.run([openssl, *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """ca.crt, server.{crt,key} for 127.0.0.1, client.{crt,key} (system:masters), sa.{key,pub}."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", _OPENSSL_DAYS,
             "-subj", "/CN=reliability-as-code test CA", cwd=folder)
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject in (("server", "/CN=kube-apiserver"), ("client", "/O=system:masters/CN=reliability-tests")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=folder)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", _OPENSSL_DAYS, "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=folder)
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "sa.key", cwd=folder)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=folder)


def _kubeconfig(url: str, certs: Path) -> str:
    return f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {url}
    certificate-authority: {certs / 'ca.crt'}
users:
- name: test
  user:
    client-certificate: {certs / 'client.crt'}
    client-key: {certs / 'client.key'}
contexts:
- name: test
  context: {{cluster: test, user: test}}
current-context: test
"""


def _wait(check, process: subprocess.Popen[bytes], log: Path, what: str, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    pytest.fail(f"{what} did not come up within {timeout:.0f}s (exit code {process.poll()}); log {log}:\n{tail}")


@contextmanager
def api_server(workdir: Path, timeout: float = 120) -> Iterator[ApiServer]:
    """etcd + kube-apiserver on free loopback ports; both stopped on exit."""
    etcd, apiserver = built_tool("etcd"), built_tool("kube-apiserver")
    certs = workdir / "pki"
    make_certificates(certs)
    client, peer, secure = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{client}"
    etcd_log, log = workdir / "etcd.log", workdir / "kube-apiserver.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(spawn([
            etcd, "--name", "test", "--data-dir", str(workdir / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"test=http://127.0.0.1:{peer}",
            # A throw-away store: no fsync keeps it fast on a busy machine.
            "--unsafe-no-fsync", "--log-level", "warn",
        ], etcd_log))
        _wait(lambda: requests.get(f"{etcd_url}/health", timeout=2).json().get("health") == "true",
              processes[0], etcd_log, "etcd", timeout)
        url = f"https://127.0.0.1:{secure}"
        processes.append(spawn([
            apiserver, "--etcd-servers", etcd_url,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(secure),
            "--tls-cert-file", str(certs / "server.crt"), "--tls-private-key-file", str(certs / "server.key"),
            "--client-ca-file", str(certs / "ca.crt"), "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", str(certs / "sa.pub"),
            "--service-account-signing-key-file", str(certs / "sa.key"),
            "--service-cluster-ip-range", "10.96.0.0/16", "--profiling=false",
            "--cert-dir", str(certs),
            # The endpoints of Service `kubernetes` would be the advertise address, which may not
            # be loopback; nothing here needs them.
            "--endpoint-reconciler-type", "none",
            # As kind, k3d, minikube and EKS run it: Chaos Mesh's daemon is a privileged container.
            "--allow-privileged=true",
        ], log))
        server = ApiServer(url, certs / "ca.crt", certs / "client.crt", certs / "client.key",
                           workdir / "kubeconfig", etcd_log, log)
        server.kubeconfig.write_text(_kubeconfig(url, certs))
        session = server.session()
        _wait(lambda: session.get(f"{url}/readyz", timeout=5).status_code == 200,
              processes[1], log, "kube-apiserver", timeout)
        yield server
    finally:
        for process in reversed(processes):
            stop(process, grace=10)
