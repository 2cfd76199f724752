#!/usr/bin/env python3
"""Writes the Grafana dashboards (JSON, Grafana 10) beside this script from the panels
below: overview, service (one service, chosen in the dashboard), kafka, jobs. `--check`
writes nothing and fails when a committed file differs; `--queries` prints every query,
one a line (infra/k8s/validate.sh has promtool parse them)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
S = '{service=~"$service"}'


def panel(title, queries, unit="short", legend="{{service}}"):
    return {"title": title, "queries": queries if isinstance(queries, list) else [queries], "unit": unit, "legend": legend}


DASHBOARDS = {
    "overview": ("Platform overview", False, [
        panel("Requests per second", "sum by (service) (rate(hb_requests[5m]))", "reqps"),
        panel("Server errors (5xx share)", 'sum by (service) (rate(hb_requests{http_response_status_code=~"5.."}[5m])) / sum by (service) (rate(hb_requests[5m]))', "percentunit"),
        panel("p99 latency", "histogram_quantile(0.99, sum by (service, le) (rate(http_server_request_duration_bucket[5m])))", "s"),
        panel("Replicas up", "sum by (service) (up)"),
        panel("Consumer lag (largest partition)", "max by (service, topic) (consumer_lag)", legend="{{service}} {{topic}}"),
        panel("Oldest unpublished event", "max by (service) (outbox_oldest_unpublished_seconds)", "s"),
        panel("Dead letters (15 min)", ["sum by (service) (increase(consumer_dead_lettered_total[15m]))", "sum by (service) (increase(outbox_dead_lettered_total[15m]))"]),
        panel("Jobs waiting", 'sum by (service) (jobs{state="available"})'),
    ]),
    "service": ("Service", True, [
        panel("Requests per second by route", f"sum by (http_route) (rate(hb_requests{S}[5m]))", "reqps", "{{http_route}}"),
        panel("Answers by status", f"sum by (http_response_status_code) (rate(hb_requests{S}[5m]))", "reqps", "{{http_response_status_code}}"),
        panel("p50 / p99 by route", [
            f"histogram_quantile(0.5, sum by (http_route, le) (rate(http_server_request_duration_bucket{S}[5m])))",
            f"histogram_quantile(0.99, sum by (http_route, le) (rate(http_server_request_duration_bucket{S}[5m])))"], "s", "{{http_route}}"),
        panel("Requests in flight", f"sum(http_server_active_requests{S})", legend="in flight"),
        panel("Jobs by kind and state", f"sum by (kind, state) (jobs{S})", legend="{{kind}} {{state}}"),
        panel("Jobs finished by outcome", f"sum by (outcome) (rate(jobs_finished_total{S}[5m]))", "ops", "{{outcome}}"),
        panel("Oldest unpublished event", f"max(outbox_oldest_unpublished_seconds{S})", "s", "outbox"),
        panel("Consumer lag", f"max by (topic) (consumer_lag{S})", legend="{{topic}}"),
    ]),
    "kafka": ("Kafka: consumers and outboxes", False, [
        panel("Consumer lag by group and topic", "max by (group, topic) (consumer_lag)", legend="{{group}} {{topic}}"),
        panel("Dead-lettered by consumers", "sum by (service, topic) (rate(consumer_dead_lettered_total[5m]))", "ops", "{{service}} {{topic}}"),
        panel("Published from outboxes", "sum by (schema) (rate(outbox_published_total[5m]))", "ops", "{{schema}}"),
        panel("Outbox: oldest unpublished", "max by (schema) (outbox_oldest_unpublished_seconds)", "s", "{{schema}}"),
        panel("Outbox: dead-lettered", "sum by (schema, topic) (rate(outbox_dead_lettered_total[5m]))", "ops", "{{schema}} {{topic}}"),
    ]),
    "jobs": ("Jobs", False, [
        panel("Jobs by state", "sum by (service, state) (jobs)", legend="{{service}} {{state}}"),
        panel("Finished per second by outcome", "sum by (service, outcome) (rate(jobs_finished_total[5m]))", "ops", "{{service}} {{outcome}}"),
        panel("Time to start (p99) by queue", "histogram_quantile(0.99, sum by (service, queue, le) (rate(jobs_claim_latency_bucket[5m])))", "s", "{{service}} {{queue}}"),
        panel("Given up (discarded) by kind", 'sum by (kind) (increase(jobs_finished_total{outcome="discarded"}[1h]))', legend="{{kind}}"),
        panel("Paced (rate-limited) by kind", "sum by (kind) (rate(jobs_paced_total[5m]))", "ops", "{{kind}}"),
    ]),
}


def dashboard(key, title, templated, panels):
    templating = [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}]
    if templated:
        templating.append({
            "name": "service", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": "label_values(hb_requests, service)", "refId": "service"}, "refresh": 2, "label": "Service",
            "current": {}, "includeAll": False,
        })
    return {
        "uid": f"platform-{key}",
        "title": title,
        "tags": ["platform"],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": templating},
        "panels": [
            {
                "id": index + 1,
                "type": "timeseries",
                "title": item["title"],
                "gridPos": {"x": (index % 2) * 12, "y": (index // 2) * 8, "w": 12, "h": 8},
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "fieldConfig": {"defaults": {"unit": item["unit"]}, "overrides": []},
                "targets": [
                    {"refId": chr(ord("A") + n), "expr": query, "legendFormat": item["legend"], "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                    for n, query in enumerate(item["queries"])
                ],
            }
            for index, item in enumerate(panels)
        ],
    }


def main():
    if "--queries" in sys.argv[1:]:
        for _, _, panels in DASHBOARDS.values():
            for item in panels:
                for query in item["queries"]:
                    print(query.replace("$service", ".+"))
        return
    stale = []
    for key, (title, templated, panels) in DASHBOARDS.items():
        path = os.path.join(HERE, f"{key}.json")
        text = json.dumps(dashboard(key, title, templated, panels), indent=2) + "\n"
        current = open(path).read() if os.path.exists(path) else None
        if current == text:
            continue
        if "--check" in sys.argv[1:]:
            stale.append(os.path.relpath(path))
        else:
            with open(path, "w") as sink:
                sink.write(text)
    if stale:
        sys.exit("dashboards differ from generate.py's output (run it): " + ", ".join(stale))


main()
