#!/usr/bin/env python3
"""Writes the gateway's route table into infra/k8s/base/config.yaml (ConfigMap
gateway-routes) from infra/gateway/routes.json, with each loopback port replaced by
its service's in-cluster address. Run it after editing routes.json."""
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = {"8080": "gateway", "8081": "auth", "8082": "tasks", "8083": "experience", "8084": "search",
            "8085": "notifications", "8086": "campaigns", "8087": "photoml"}


def in_cluster(value):
    if isinstance(value, dict):
        return {key: in_cluster(item) for key, item in value.items()}
    if isinstance(value, list):
        return [in_cluster(item) for item in value]
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", value) if isinstance(value, str) else None
    return f"http://{SERVICES[match.group(1)]}:8080" if match else value


routes = in_cluster(json.load(open(os.path.join(ROOT, "infra", "gateway", "routes.json"))))
path = os.path.join(ROOT, "infra", "k8s", "base", "config.yaml")
text = open(path).read()
marker = "  routes.json: |\n"
start = text.index(marker) + len(marker)
lines = text[start:].split("\n")
end = next((n for n, line in enumerate(lines) if line and not line.startswith("    ")), len(lines))
block = "\n".join("    " + line for line in json.dumps(routes, indent=2).split("\n"))
rest = "\n".join(lines[end:])
open(path, "w").write(text[:start] + block + ("\n" + rest if end < len(lines) else "\n"))
