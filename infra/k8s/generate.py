#!/usr/bin/env python3
"""Writes the generated part of infra/k8s/base from one table of the services:
services/<name>.yaml (Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget),
jobs.yaml (the bootstrap SQL and every service's migrations, as Jobs), monitoring.yaml (the
scrape, rules and dashboards of infra/observability), and the gateway's
route table in config.yaml (from infra/gateway/routes.json, loopback ports replaced by
in-cluster addresses). `--check` writes nothing and fails when a committed file differs
(infra/k8s/validate.sh, in `make test`). Run it after editing this table, routes.json,
infra/sql/bootstrap.sql or infra/observability."""
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.path.join(ROOT, "infra", "k8s", "base")
IMAGE = "platform"

# name: loopback port in development, the secrets it reads (env name -> secret, key), the
# non-secret settings it adds, whether it owns a schema.
SERVICES = {
    "gateway": {"port": 8080, "database": False, "env": {"GATEWAY_ROUTES_FILE": "/etc/gateway/routes.json"}},
    "auth": {
        "port": 8081,
        "secrets": {
            "AUTH_KEY_ENCRYPTION_KEY": ("auth-secrets", "key-encryption-key"),
            "AUTH_REFRESH_TOKEN_SECRET": ("auth-secrets", "refresh-token-secret"),
            "PLATFORM_OPERATOR_EMAIL": ("auth-secrets", "operator-email"),
            "PLATFORM_OPERATOR_PASSWORD": ("auth-secrets", "operator-password"),
        },
        # The client IP comes from X-Forwarded-For only when the peer is the gateway: the
        # cluster's pod network (an overlay narrows it to the real pod CIDR).
        "env": {"AUTH_TRUSTED_PROXIES": "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fd00::/8"},
    },
    "tasks": {"port": 8082},
    "experience": {"port": 8083},
    "search": {"port": 8084},
    "notifications": {
        "port": 8085,
        "secrets": {
            "SMTP_URL": ("notifications-secrets", "smtp-url"),
            "SMTP_USERNAME": ("notifications-secrets", "smtp-username"),
            "SMTP_PASSWORD": ("notifications-secrets", "smtp-password"),
        },
    },
    "campaigns": {
        "port": 8086,
        "secrets": {
            "CAMPAIGNS_LINK_SECRET": ("campaigns-secrets", "link-secret"),
            "CAMPAIGNS_KEY_ENCRYPTION_KEY": ("campaigns-secrets", "key-encryption-key"),
            "CAMPAIGNS_SMTP_URL": ("campaigns-secrets", "smtp-url"),
        },
    },
    "photoml": {
        "port": 8087,
        "secrets": {
            "PHOTO_S3_ENDPOINT": ("photoml-storage", "endpoint"),
            "PHOTO_S3_BUCKET": ("photoml-storage", "bucket"),
            "PHOTO_S3_REGION": ("photoml-storage", "region"),
            "PHOTO_S3_ACCESS_KEY_ID": ("photoml-storage", "access-key-id"),
            "PHOTO_S3_SECRET_ACCESS_KEY": ("photoml-storage", "secret-access-key"),
        },
        # The detector runs on the CPU: more room than the others.
        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
    },
}
SCHEMAS = [name for name, service in SERVICES.items() if service.get("database", True)]


def env_list(name, service):
    entries = []
    if service.get("database", True):
        entries.append({"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": f"{name}-database", "key": "url"}}})
    for key, value in service.get("env", {}).items():
        entries.append({"name": key, "value": value})
    for key, (secret, field) in service.get("secrets", {}).items():
        entries.append({"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": field}}})
    return entries


def container_security():
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security():
    return {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def labels(name):
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "platform"}


def service_objects(name, service):
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if name == "gateway":
        volumes.append({"name": "routes", "configMap": {"name": "gateway-routes"}})
        mounts.append({"name": "routes", "mountPath": "/etc/gateway", "readOnly": True})
    container = {
        "name": name,
        "image": f"{IMAGE}:latest",
        "imagePullPolicy": "Always",
        # The migrations Job applies the schema first; a replica waits, not ready, until it has.
        "command": [f"/app/bin/{name}", "serve"] + (["--no-migrate"] if service.get("database", True) else []),
        "ports": [{"name": "http", "containerPort": 8080}],
        "envFrom": [{"configMapRef": {"name": "platform-config"}}],
        "env": env_list(name, service),
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "failureThreshold": 3},
        "resources": service.get("resources", {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}),
        "securityContext": container_security(),
        "volumeMounts": mounts,
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {
                    "labels": labels(name),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"},
                },
                "spec": {
                    # SHUTDOWN_DRAIN_SECONDS (5) + graceful shutdown (30) + cancellation (10), and a margin.
                    "terminationGracePeriodSeconds": 50,
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
    ports = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels(name)},
             "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}}
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
        },
    }
    budget = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "labels": labels(name)},
              "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}}}
    return [deployment, ports, autoscaler, budget]


def job(name, comment, containers, secret_env=None):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels(name), "annotations": {"platform/purpose": comment}},
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(),
                    # One after the other, each in its own container: a failing one stops the rest.
                    "initContainers": containers[:-1],
                    "containers": containers[-1:],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}, {"name": "bootstrap", "configMap": {"name": "postgres-bootstrap"}}],
                },
            },
        },
    }


def jobs():
    migrate = []
    for name in SCHEMAS:
        migrate.append({
            "name": name,
            "image": f"{IMAGE}:latest",
            "imagePullPolicy": "Always",
            "command": [f"/app/bin/{name}", "migrate"],
            "envFrom": [{"configMapRef": {"name": "platform-config"}}],
            "env": [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": f"{name}-database", "key": "url"}}}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
            "securityContext": container_security(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        })
    # The roles, schemas and extensions (infra/sql/bootstrap.sql), then each role's password
    # from its service's database secret. As the superuser; idempotent.
    # psql substitutes :'password' (quoted as a literal) only in what it reads, not in -c.
    passwords = "\n".join(
        f"echo \"ALTER ROLE svc_{name} PASSWORD :'password';\" | psql \"$SUPERUSER_URL\" -v ON_ERROR_STOP=1 -v password=\"$PASSWORD_{name.upper()}\""
        for name in SCHEMAS)
    bootstrap = {
        "name": "bootstrap",
        "image": "postgres:16-bookworm",
        "imagePullPolicy": "Always",
        "command": ["/bin/sh", "-ec", "psql \"$SUPERUSER_URL\" -v ON_ERROR_STOP=1 -f /bootstrap/bootstrap.sql\n" + passwords],
        "env": [{"name": "SUPERUSER_URL", "valueFrom": {"secretKeyRef": {"name": "postgres-superuser", "key": "uri"}}}]
        + [{"name": f"PASSWORD_{name.upper()}", "valueFrom": {"secretKeyRef": {"name": f"{name}-database", "key": "password"}}} for name in SCHEMAS],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {**container_security(), "runAsUser": 999, "runAsGroup": 999},
        "volumeMounts": [{"name": "bootstrap", "mountPath": "/bootstrap", "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    sql = open(os.path.join(ROOT, "infra", "sql", "bootstrap.sql")).read()
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "postgres-bootstrap", "labels": labels("bootstrap")},
              "data": {"bootstrap.sql": sql}}
    return [
        config,
        # The bootstrap first, then every schema's migrations: one Job, so nothing migrates
        # before the roles exist. Run before each upgrade's rollout (infra/k8s/README.md).
        job("platform-migrate", "roles, schemas and extensions, then every service's migrations", [bootstrap] + migrate),
    ]


def routes_config(text):
    ports = {str(service["port"]): name for name, service in SERVICES.items()}

    def in_cluster(value):
        if isinstance(value, dict):
            return {key: in_cluster(item) for key, item in value.items()}
        if isinstance(value, list):
            return [in_cluster(item) for item in value]
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", value) if isinstance(value, str) else None
        return f"http://{ports[match.group(1)]}:8080" if match else value

    routes = in_cluster(json.load(open(os.path.join(ROOT, "infra", "gateway", "routes.json"))))
    marker = "  routes.json: |\n"
    start = text.index(marker) + len(marker)
    lines = text[start:].split("\n")
    end = next((n for n, line in enumerate(lines) if line and not line.startswith("    ")), len(lines))
    block = "\n".join("    " + line for line in json.dumps(routes, indent=2).split("\n"))
    return text[:start] + block + "\n" + "\n".join(lines[end:])


def literal(dumper, value):
    # Multi-line strings (SQL, scripts) as blocks, not escaped lines.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


yaml.SafeDumper.add_representer(str, literal)


def dump(objects):
    return "---\n".join(yaml.safe_dump(o, sort_keys=False, width=140) for o in objects)


def monitoring():
    """The rules and dashboards of infra/observability as the Prometheus operator's and
    Grafana's sidecar expect them, and the pods' scrape with the `service` label."""
    observability = os.path.join(ROOT, "infra", "observability")
    rules = yaml.safe_load(open(os.path.join(observability, "prometheus", "rules.yaml")))
    scrape = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "platform", "labels": labels("platform")},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/part-of": "platform"}},
            "podMetricsEndpoints": [{
                "port": "http",
                "path": "/metrics",
                "interval": "15s",
                # The rules and dashboards group by `service`.
                "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], "targetLabel": "service"}],
            }],
        },
    }
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "platform", "labels": labels("platform")},
            "spec": rules}
    dashboards = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "platform-dashboards", "labels": {**labels("platform"), "grafana_dashboard": "1"}},
        "data": {name: open(os.path.join(observability, "grafana", name)).read()
                 for name in sorted(os.listdir(os.path.join(observability, "grafana"))) if name.endswith(".json")},
    }
    return [scrape, rule, dashboards]


HEADER = "# Generated by infra/k8s/generate.py from its table of the services; edit that, then run it.\n"


def outputs():
    files = {}
    for name, service in SERVICES.items():
        files[os.path.join(BASE, "services", f"{name}.yaml")] = HEADER + dump(service_objects(name, service))
    files[os.path.join(BASE, "jobs.yaml")] = HEADER + dump(jobs())
    files[os.path.join(BASE, "monitoring.yaml")] = HEADER + dump(monitoring())
    config = os.path.join(BASE, "config.yaml")
    files[config] = routes_config(open(config).read())
    return files


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for path, text in outputs().items():
        current = open(path).read() if os.path.exists(path) else None
        if current == text:
            continue
        if check:
            stale.append(os.path.relpath(path, ROOT))
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as sink:
                sink.write(text)
    if stale:
        sys.exit("generated Kubernetes files differ from infra/k8s/generate.py's output (run it): " + ", ".join(stale))


main()
