"""A small Kubernetes API client for the cluster tests: discovery, server-side apply, get, list.

Server-side apply (`PATCH` with `application/apply-patch+yaml`) is what `kubectl apply
--server-side` sends; with `dryRun=All` the API server runs every validation and admission
step and stores nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from .apiserver import ApiServer

FIELD_MANAGER = "reliability-tests"


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool


class KubeError(Exception):
    """The API server refused a request; the message is its own."""


class Kube:
    def __init__(self, server: ApiServer):
        self.url = server.url
        self.http = server.session()
        self._resources: dict[tuple[str, str], Resource] = {}

    def _json(self, response: requests.Response) -> Any:
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise KubeError(f"{response.status_code}: {message}")
        return response.json() if response.content else None

    def discover(self) -> None:
        """Reads every served group-version's resources (again after CRDs were added)."""
        resources: dict[tuple[str, str], Resource] = {}
        versions = [f"/api/{v}" for v in self._json(self.http.get(f"{self.url}/api"))["versions"]]
        for group in self._json(self.http.get(f"{self.url}/apis"))["groups"]:
            versions += [f"/apis/{v['groupVersion']}" for v in group["versions"]]
        for path in versions:
            listing = self._json(self.http.get(f"{self.url}{path}"))
            for item in listing["resources"]:
                if "/" not in item["name"]:
                    resources[(listing["groupVersion"], item["kind"])] = Resource(item["name"], item["namespaced"])
        self._resources = resources

    def _resource(self, api_version: str, kind: str) -> Resource:
        resource = self._resources.get((api_version, kind))
        if resource is None:
            raise KubeError(f"the API server serves no {kind} in {api_version}")
        return resource

    def path(self, api_version: str, kind: str, name: str = "", namespace: str = "") -> str:
        resource = self._resource(api_version, kind)
        base = "/api/" if "/" not in api_version else "/apis/"
        where = f"namespaces/{namespace}/" if resource.namespaced and namespace else ""
        return f"{self.url}{base}{api_version}/{where}{resource.plural}" + (f"/{name}" if name else "")

    def namespaced(self, api_version: str, kind: str) -> bool:
        return self._resource(api_version, kind).namespaced

    def _object_path(self, obj: dict[str, Any]) -> str:
        meta = obj.get("metadata") or {}
        return self.path(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace", ""))

    def apply(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply; returns the object as the API server stored (or would store) it."""
        # Strict: an unknown or duplicated field is an error, not a warning with the field dropped.
        params = {"fieldManager": FIELD_MANAGER, "force": "true", "fieldValidation": "Strict"}
        if dry_run:
            params["dryRun"] = "All"
        response = self.http.patch(self._object_path(obj), params=params, data=json.dumps(obj),
                                   headers={"Content-Type": "application/apply-patch+yaml"}, timeout=60)
        return self._json(response)  # type: ignore[no-any-return]

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        response = self.http.get(self.path(api_version, kind, name, namespace), timeout=30)
        if response.status_code == 404:
            return None
        return self._json(response)  # type: ignore[no-any-return]

    def list(self, api_version: str, kind: str, namespace: str = "") -> list[dict[str, Any]]:
        """Every object of `kind` (in `namespace`, or in all namespaces)."""
        items = self._json(self.http.get(self.path(api_version, kind, namespace=namespace), timeout=30))["items"]
        return items  # type: ignore[no-any-return]

    def wait_established(self, crd_names: list[str], timeout: float = 60) -> None:
        """Until each CRD's Established condition is True, then rediscovers the API."""
        deadline = time.monotonic() + timeout
        pending: set[str] = set(crd_names)
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                crd = self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) or {}
                conditions = (crd.get("status") or {}).get("conditions") or []
                if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                    pending.discard(name)
            if pending:
                time.sleep(0.3)
        if pending:
            raise KubeError(f"CRDs not established after {timeout:.0f}s: {', '.join(sorted(pending))}")
        self.discover()
