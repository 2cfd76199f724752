#!/usr/bin/env python3
"""Validates rendered manifests (files given) against the Kubernetes API schemas of
KUBERNETES_VERSION, strictly (unknown fields are errors). Custom resources whose schemas
kubernetes-validate does not carry are skipped by kind, each for the reason below."""
import os
import sys

import kubernetes_validate
import yaml

VERSION = os.environ.get("KUBERNETES_VERSION", "1.32.0")
SKIPPED = {
    # Strimzi's CRD is not bundled; the topics' names, partitions and policies are checked
    # against the contracts registry by Tests/ContractsTests/AsyncAPITests.
    "KafkaTopic": "Strimzi custom resource",
    # CloudNativePG's CRDs are not bundled; the prod overlay's two objects are short and
    # follow the operator's documented fields.
    "Cluster": "CloudNativePG custom resource",
    "ScheduledBackup": "CloudNativePG custom resource",
    # The Prometheus operator's CRDs are not bundled; the rules inside are checked and
    # unit-tested by promtool (infra/observability/check.sh).
    "PodMonitor": "Prometheus operator custom resource",
    "PrometheusRule": "Prometheus operator custom resource",
}

failures = 0
for path in sys.argv[1:]:
    checked, skipped = 0, {}
    for document in yaml.safe_load_all(open(path)):
        if not document:
            continue
        kind = document.get("kind", "?")
        if kind in SKIPPED:
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        try:
            kubernetes_validate.validate(document, VERSION, strict=True)
            checked += 1
        except kubernetes_validate.ValidationError as error:
            failures += 1
            print(f"{path}: {kind} {document.get('metadata', {}).get('name')}: {error.message}")
    print(f"{os.path.basename(path)}: {checked} objects valid against Kubernetes {VERSION}; skipped "
          + ", ".join(f"{count} {kind} ({SKIPPED[kind]})" for kind, count in sorted(skipped.items())))
sys.exit(1 if failures else 0)
