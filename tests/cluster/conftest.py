"""The cluster suite: real programs built by `make tools` (tools/versions.toml) on loopback.

Every test under tests/cluster/ carries the `cluster` marker (`make test-cluster` runs only
these; `make test` runs them with the rest) and one xdist group: the API server is shared by
the whole session, on one worker, and the CRDs are installed once, first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..crds import crd_documents
from .apiserver import ApiServer, api_server
from .kube import Kube

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m cluster` selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.cluster)
            item.add_marker(pytest.mark.xdist_group("apiserver"))


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with api_server(tmp_path_factory.mktemp("apiserver")) as server:
        yield server


@pytest.fixture(scope="session")
def kube(apiserver: ApiServer) -> Kube:
    """A client of the API server, with the reference CRDs installed and established."""
    client = Kube(apiserver)
    client.discover()
    crds = crd_documents()
    for crd in crds:
        client.apply(crd)
    client.wait_established([crd["metadata"]["name"] for crd in crds])
    return client
