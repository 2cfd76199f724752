#!/usr/bin/env python3
"""A small OTLP/HTTP trace receiver for tests: accepts POST /v1/traces (protobuf), writes
each span as a JSON line (trace and span ids in hex, parent, name, kind, service, string
attributes) to
SPANS_FILE, and answers as a collector would. Binds a free loopback port and writes it
to PORT_FILE. Usage: otlp_receiver.py PORT_FILE SPANS_FILE"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

PORT_FILE, SPANS_FILE = sys.argv[1], sys.argv[2]


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces":
            self.send_response(404)
            self.end_headers()
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        lines = []
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    lines.append(json.dumps({
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(), "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name, "kind": span.kind, "service": service,
                        "attributes": {a.key: a.value.string_value for a in span.attributes if a.value.HasField("string_value")},
                    }))
        with open(SPANS_FILE, "a") as sink:
            sink.write("".join(line + "\n" for line in lines))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
with open(PORT_FILE, "w") as sink:
    sink.write(str(server.server_address[1]))
server.serve_forever()
