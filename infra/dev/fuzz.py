"""Checks the services' OpenAPI documents and fuzzes the running platform against them.

validate: every contracts/openapi/*.yaml must be a valid OpenAPI 3.1 document.
quick | long GATEWAY: for each document, a new tenant on the enterprise plan (so the
gateway's limits do not drown the run in 429s), then schemathesis against the document the
service serves through the gateway, authenticated as that tenant's owner. A server error, a
response outside its documented status codes, content types or schema fails the run.
Run by infra/dev/fuzz.sh, which provides the tools.
"""

import glob
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENTS = sorted(glob.glob(os.path.join(ROOT, "contracts", "openapi", "*.yaml")))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
# quick: seeded and bounded, for every `make test`; long: as much as the time allows.
MODES = {
    "quick": ["--seed", "20261206", "--max-examples", "12", "--max-time", "45", "--generation-deterministic"],
    "long": ["--max-examples", "500", "--max-time", "150"],
}
OPERATOR = (
    os.environ.get("PLATFORM_OPERATOR_EMAIL", "operator@example.com"),
    os.environ.get("PLATFORM_OPERATOR_PASSWORD", "operator-password-dev"),
)


def validate():
    from openapi_spec_validator import validate as check
    from openapi_spec_validator.readers import read_from_filename

    for path in DOCUMENTS:
        spec, _ = read_from_filename(path)
        check(spec)
        print(f"fuzz: {os.path.relpath(path, ROOT)} is a valid OpenAPI {spec['openapi']} document")


def call(gateway, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(gateway + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None


def enterprise_owner(gateway, operator_token):
    """A new tenant's owner token; the tenant is moved to the enterprise plan."""
    status, body = call(
        gateway,
        "POST",
        "/v1/auth/signup",
        {
            "email": f"fuzz-{uuid.uuid4().hex[:12]}@example.com",
            "password": "a fuzzing password 2026",
            "name": "Fuzz Owner",
            "tenantName": f"Fuzz {uuid.uuid4().hex[:8]}",
        },
    )
    if status != 201:
        sys.exit(f"fuzz: sign-up failed: {status} {body}")
    token, tenant = body["accessToken"], body["tenant"]["id"]
    status, body = call(gateway, "PATCH", f"/v1/platform/tenants/{tenant}", {"plan": "enterprise"}, operator_token)
    if status != 200:
        sys.exit(f"fuzz: could not move the tenant to enterprise: {status} {body}")
    # The gateway learns plans from auth's events; wait until it has this one.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = call(gateway, "GET", "/v1/admin/usage", token=token)
        if status == 200 and body.get("plan") == "enterprise":
            return token
        time.sleep(0.2)
    sys.exit("fuzz: the gateway did not learn the tenant's plan within 30 s")


def paths(document):
    with open(document) as file:
        return yaml.safe_load(file)["paths"]


def own_path(document_paths):
    """Where the service serves its document through the gateway."""
    return next(path for path in document_paths if path.endswith("/openapi.json"))


def unfuzzed(document_paths):
    """Operations marked `x-fuzz: false` (a stream that stays open for minutes)."""
    return [
        operation["operationId"]
        for item in document_paths.values()
        for operation in item.values()
        if isinstance(operation, dict) and operation.get("x-fuzz") is False
    ]


def summary(output):
    """schemathesis's closing figures: operations tested, test cases, failures by kind."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    closing = text[text.rfind("SUMMARY") :] if "SUMMARY" in text else text
    figures = []
    tested = re.search(r"Tested: (\d+)", closing)
    if tested:
        figures.append(f"{tested.group(1)} operations")
    cases = re.search(r"Test cases:\s*\n\s*(.+)", closing)
    if cases:
        figures.append(cases.group(1).strip())
    failures = re.findall(r"❌ (ST\d+ [^:\n]+): (\d+)", closing)
    errors = re.findall(r"🚫 ([^:\n]+): (\d+)", closing)
    for kind, count in failures + errors:
        figures.append(f"{kind}: {count}")
    return ["; ".join(figures)] if figures else []


def fuzz(mode, gateway):
    status, body = call(gateway, "POST", "/v1/auth/login", {"email": OPERATOR[0], "password": OPERATOR[1]})
    if status != 200:
        sys.exit(f"fuzz: the platform operator could not log in: {status} {body}")
    operator_token = body["accessToken"]
    reports = os.path.join(ROOT, ".dev", "test", "fuzz")
    os.makedirs(reports, exist_ok=True)
    failed = []
    # Auth last: its fuzzing may end its own tenant's sessions.
    ordered = sorted(DOCUMENTS, key=lambda path: (os.path.basename(path) == "auth.yaml", path))
    # FUZZ_SERVICES=campaigns,photoml: only those documents (while working on a service).
    only = [name for name in os.environ.get("FUZZ_SERVICES", "").split(",") if name]
    if only:
        ordered = [path for path in ordered if os.path.basename(path)[: -len(".yaml")] in only]
    for document in ordered:
        service = os.path.basename(document)[: -len(".yaml")]
        token = enterprise_owner(gateway, operator_token)
        document_paths = paths(document)
        command = [
            os.path.join(os.path.dirname(sys.executable), "schemathesis"),
            "run",
            gateway + own_path(document_paths),
            "--url",
            gateway,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--request-timeout",
            "40",
            # One worker: hypothesis parses lambdas with `ast`, which is not thread-safe on
            # this Python ("AST constructor recursion depth mismatch" with two).
            "--workers",
            "1",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            os.path.join(reports, f"{service}.xml"),
            "--suppress-health-check",
            "all",
        ] + MODES[mode]
        for operation in unfuzzed(document_paths):
            command += ["--exclude-operation-id", operation]
        started = time.monotonic()
        # Its example database (.schemathesis/) goes beside the reports.
        run = subprocess.run(command, capture_output=True, text=True, cwd=reports)
        seconds = time.monotonic() - started
        with open(os.path.join(reports, f"{service}.log"), "w") as log:
            log.write(run.stdout + run.stderr)
        print(f"fuzz: {service}: {'passed' if run.returncode == 0 else 'FAILED'} in {seconds:.0f} s")
        for line in summary(run.stdout):
            print(f"fuzz:   {line}")
        if run.returncode != 0:
            failed.append(service)
    if failed:
        print(f"fuzz: failures in {', '.join(failed)}; the full output is in {os.path.relpath(reports, ROOT)}/<service>.log")
        sys.exit(1)


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "validate":
        validate()
    elif mode in MODES and len(sys.argv) == 3:
        fuzz(mode, sys.argv[2].rstrip("/"))
    else:
        sys.exit("usage: fuzz.py validate | quick GATEWAY | long GATEWAY")
