"""deploy/: the compose profile of three replicas behind Caddy, and the Kubernetes example, validated without a
container engine.

- Compose: `docker compose config` where the docker CLI has the compose plugin. Debian ships no compose plugin
  (its `docker-compose` is the retired v1, which cannot read this file's `name:`), so without it that test is
  skipped with one line, on CI too. The shape the deployment depends on is checked either way.
- Kubernetes: kubeconform, built from the Go module proxy into ~/.cache/public-catalog. It cannot fetch its
  schemas here (they live on GitHub), so it reads JSON schemas we write from the Kubernetes OpenAPI schemas that
  the `kubernetes-validate` PyPI package ships, made standalone (their shared definitions inlined). The same
  schemas also validate the manifests in-process, so they are checked even where Go is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ON_CI, REPO, ensure_tool, skip_or_fail

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
MANIFESTS = DEPLOY / "kubernetes" / "catalog.yaml"
KUBECONFORM = "v0.8.0"
KUBERNETES = "1.33.0"
CACHE = Path.home() / ".cache" / "public-catalog"
BUILD_TIMEOUT_S = 900


def manifests() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(MANIFESTS.read_text()) if doc]


def test_the_compose_profile_runs_three_replicas_behind_a_health_checked_balancer_on_one_neo4j() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    replicas = {name: s for name, s in services.items() if name.startswith("catalog-") and name != "catalog-init"}
    caddyfile = (DEPLOY / "Caddyfile").read_text()

    assert sorted(replicas) == ["catalog-1", "catalog-2", "catalog-3"]
    for service in replicas.values():
        assert service["profiles"] == ["replicas"]
        assert service["environment"]["CATALOG_STORE"] == "neo4j://neo4j:7687"
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["catalog-init"]["condition"] == "service_completed_successfully"
    assert "replicas" in services["lb"]["profiles"]
    assert all(services["lb"]["depends_on"][name]["condition"] == "service_healthy" for name in replicas)
    assert "reverse_proxy catalog-1:8000 catalog-2:8000 catalog-3:8000" in caddyfile
    assert "health_uri /readyz" in caddyfile


def test_the_compose_file_is_valid_for_docker_compose() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode:
        pytest.skip("docker compose config not run: no docker CLI with the compose plugin (Debian packages none)")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "--profile", "replicas", "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_deployment_is_ready_on_readyz_and_routes_to_a_causal_cluster() -> None:
    by_kind = {doc["kind"]: doc for doc in manifests()}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert by_kind["Deployment"]["spec"]["replicas"] >= 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert by_kind["ConfigMap"]["data"]["CATALOG_STORE"].startswith("neo4j://")
    assert {"secretRef": {"name": "catalog-secrets"}} in container["envFrom"]


def schema_name(doc: dict[str, Any]) -> str:
    """The schema file of a manifest's kind, as kubeconform and kubernetes-validate name it."""
    return f"{doc['kind'].lower()}-{doc['apiVersion'].split('.')[0].replace('/', '-')}.json"


def standalone_schemas(folder: Path) -> Path:
    """kubernetes-validate's schemas for KUBERNETES, each with the shared definitions inlined, named as
    kubeconform looks them up ({kind}-{group}-{version}.json)."""
    source = files("kubernetes_validate") / "kubernetes-json-schema" / f"v{KUBERNETES}-local-strict"
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    target = folder / f"v{KUBERNETES}-standalone-strict"
    target.mkdir(parents=True, exist_ok=True)
    shared = json.dumps(definitions).replace('"/api/_definitions.json#/$defs/', '"#/$defs/')
    for doc in manifests():
        name = schema_name(doc)
        text = (source / name).read_text().replace('"/api/_definitions.json#/$defs/', '"#/$defs/')
        schema = json.loads(text)
        schema.pop("$id", None)
        schema["$defs"] = json.loads(shared)
        (target / name).write_text(json.dumps(schema))
    return target


def test_the_manifests_validate_against_the_kubernetes_schemas_in_process(tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    schemas = standalone_schemas(tmp_path)
    problems = []
    for doc in manifests():
        validator = Draft202012Validator(json.loads((schemas / schema_name(doc)).read_text()))
        problems += [f"{doc['kind']}: {e.json_path}: {e.message}" for e in validator.iter_errors(doc)]

    assert problems == []


def go_binary() -> str | None:
    found = shutil.which("go") or next((p for p in ("/usr/local/go/bin/go",) if os.access(p, os.X_OK)), None)
    if found is None and ensure_tool("go", "golang-go"):
        found = shutil.which("go")
    return found


def kubeconform() -> Path:
    """kubeconform KUBECONFORM, built from the Go module proxy once and kept in the cache."""
    binary = CACHE / f"kubeconform-{KUBECONFORM}" / "kubeconform"
    if binary.exists():
        return binary
    go = go_binary()
    if go is None:
        skip_or_fail("kubeconform needs Go to build it from the Go module proxy, and there is no go on PATH")
    assert go is not None
    env = {**os.environ, "GOBIN": str(binary.parent), "GOFLAGS": "-buildvcs=false"}
    built = subprocess.run(
        [go, "install", f"github.com/yannh/kubeconform/cmd/kubeconform@{KUBECONFORM}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=BUILD_TIMEOUT_S,
    )
    if built.returncode != 0:
        message = f"could not build kubeconform {KUBECONFORM}: {built.stderr[-1500:]}"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.mark.timeout(BUILD_TIMEOUT_S + 60)
def test_the_manifests_conform_with_kubeconform_offline(tmp_path: Path) -> None:
    schemas = standalone_schemas(tmp_path / "schemas")
    location = str(schemas / "{{ .ResourceKind }}{{ .KindSuffix }}.json")

    result = subprocess.run(
        [str(kubeconform()), "-strict", "-summary", "-schema-location", location, str(MANIFESTS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Valid: {len(manifests())}" in result.stdout and "Skipped: 0" in result.stdout, result.stdout
