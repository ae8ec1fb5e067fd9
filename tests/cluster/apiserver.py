"""A real Kubernetes API server on loopback: etcd plus kube-apiserver, built by `make tools`.

On its own it stores and validates objects exactly as a cluster's API server does (built-in
types, admission, CRD schemas); controlplane.py adds controllers, a scheduler and a simulated
node where a test needs objects to converge. Certificates
are made at start with openssl (a throw-away CA, a server certificate for 127.0.0.1 and a
client certificate in group system:masters); every port is a free one on 127.0.0.1; both
processes are stopped when the context ends, whatever happened, and their logs are shown
when they do not come up.

External cluster mode: with RAC_KUBECONFIG=PATH set, the suite uses the current context of that
kubeconfig instead (a kind cluster in the GitHub `kind` job, where pods really run) and starts
nothing: no etcd, no kube-apiserver, and controlplane.py adds nothing either.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from ..alertmanager_proc import free_port, spawn, stop
from ..gotools import built_tool

_OPENSSL_DAYS = "2"
EXTERNAL = "RAC_KUBECONFIG"


@dataclass(frozen=True)
class ApiServer:
    url: str
    ca: Path | None  # None: the system's trust store
    client_cert: Path | None
    client_key: Path | None
    kubeconfig: Path
    context: str = "test"  # the kubeconfig context that reaches it
    token: str | None = None
    external: bool = False  # RAC_KUBECONFIG's cluster: nothing of it was started here

    def session(self) -> requests.Session:
        session = requests.Session()
        # Otherwise REQUESTS_CA_BUNDLE (and proxies) from the environment override `verify`.
        session.trust_env = False
        session.verify = str(self.ca) if self.ca else True
        if self.client_cert and self.client_key:
            session.cert = (str(self.client_cert), str(self.client_key))
        if self.token:
            session.headers["Authorization"] = f"Bearer {self.token}"
        return session


def _credential(entry: dict[str, object], key: str, folder: Path, kubeconfig: Path) -> Path | None:
    """`key` (a file, relative to the kubeconfig's folder) or `key-data` (base64) as a file."""
    if entry.get(f"{key}-data"):
        path = folder / key
        path.write_bytes(base64.b64decode(str(entry[f"{key}-data"])))
        path.chmod(0o600)
        return path
    if entry.get(key):
        return kubeconfig.parent / str(entry[key])
    return None


def external_cluster(kubeconfig: Path, workdir: Path) -> ApiServer:
    """The current context of `kubeconfig`: its server, CA and client certificate or token.

    Exec and auth-provider plugins are not followed: kind, k3d and minikube write certificates."""
    if not kubeconfig.is_file():
        pytest.fail(f"{EXTERNAL}={kubeconfig}: no such file")
    config = yaml.safe_load(kubeconfig.read_text()) or {}
    context_name = config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
    if context_name not in contexts:
        pytest.fail(f"{EXTERNAL}={kubeconfig}: current-context {context_name!r} is not one of its contexts")
    context = contexts[context_name]
    cluster = {c["name"]: c["cluster"] for c in config.get("clusters") or []}[context["cluster"]]
    user = {u["name"]: u["user"] for u in config.get("users") or []}.get(context.get("user"), {})
    workdir.mkdir(parents=True, exist_ok=True)
    cert = _credential(user, "client-certificate", workdir, kubeconfig)
    key = _credential(user, "client-key", workdir, kubeconfig)
    if not user.get("token") and not (cert and key):
        pytest.fail(f"{EXTERNAL}={kubeconfig}: user of context {context_name!r} has neither a token nor a "
                    "client certificate and key (exec and auth-provider plugins are not supported)")
    return ApiServer(cluster["server"].rstrip("/"), _credential(cluster, "certificate-authority", workdir, kubeconfig),
                     cert, key, kubeconfig, context=context_name, token=user.get("token"), external=True)


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
    """etcd + kube-apiserver on free loopback ports; both stopped on exit. Under RAC_KUBECONFIG,
    that cluster instead, started and stopped by whoever made it."""
    if os.environ.get(EXTERNAL):
        yield external_cluster(Path(os.environ[EXTERNAL]).expanduser().resolve(), workdir)
        return
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
                           workdir / "kubeconfig")
        server.kubeconfig.write_text(_kubeconfig(url, certs))
        session = server.session()
        _wait(lambda: session.get(f"{url}/readyz", timeout=5).status_code == 200,
              processes[1], log, "kube-apiserver", timeout)
        yield server
    finally:
        for process in reversed(processes):
            stop(process, grace=10)
