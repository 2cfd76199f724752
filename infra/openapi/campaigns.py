"""Writes contracts/openapi/campaigns.yaml: the campaigns service's OpenAPI document is kept
here as data (its many similar operations are easier to keep consistent in code). Edit this
file, then run it with a Python that has PyYAML (.dev/venv/bin/python infra/openapi/campaigns.py)."""
import os
import yaml, collections

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
def resp(name): return {"$ref": f"#/components/responses/{name}"}
ID = {"$ref": "#/components/parameters/Id"}
LIMIT = {"$ref": "#/components/parameters/Limit"}
CURSOR = {"$ref": "#/components/parameters/Cursor"}
IFMATCH = {"$ref": "#/components/parameters/IfMatch"}
ETAG = {"ETag": {"$ref": "#/components/headers/ETag"}}
LOC = {"Location": {"$ref": "#/components/headers/Location"}}

def errors(*codes):
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 412: "PreconditionFailed",
             422: "Invalid", 429: "TooManyRequests"}
    return {str(c): resp(names[c]) for c in sorted(set(codes) | {400, 401, 429})}

def json_body(schema): return {"required": True, "content": {"application/json": {"schema": schema}}}
def ok(desc, schema, status="200", headers=None):
    r = {"description": desc, "content": {"application/json": {"schema": schema}}}
    if headers: r["headers"] = headers
    return {status: r}
def page(item): return {"allOf": [ref("PageInfo"), {"properties": {"items": {"type": "array", "items": ref(item)}}}]}
def op(opid, summary, tag, responses, params=None, body=None, desc=None):
    o = {"operationId": opid, "summary": summary, "tags": [tag]}
    if desc: o["description"] = desc
    if params: o["parameters"] = params
    if body: o["requestBody"] = body
    o["responses"] = responses
    return o

paths = {}
paths["/v1/campaigns/openapi.json"] = {"get": {"operationId": "campaignsOpenAPI", "summary": "This document as JSON", "security": [],
    "tags": ["subscribers"], "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}}}

# Subscribers
paths["/v1/campaigns/subscribers"] = {
    "post": op("createSubscriber", "Add a subscriber (email normalised, unique in the tenant), optionally onto lists", "subscribers",
        {**ok("The subscriber", ref("Subscriber"), "201", {**ETAG, **LOC}), **errors(403, 409, 422)},
        body=json_body({"type": "object", "required": ["email"], "properties": {
            "email": {"type": "string", "maxLength": 320}, "name": {"type": "string", "maxLength": 200},
            "attributes": {"type": "object", "description": "Free-form JSON object, at most 16 KB and 5 levels deep; keys without '.'"},
            "status": ref("SubscriberStatus"), "lists": {"type": "array", "items": {"type": "string", "format": "uuid"}, "maxItems": 100}}}),
        desc="409 when the address is taken or the plan's subscriber quota is reached."),
    "get": op("listSubscribers", "Subscribers, newest first", "subscribers", {**ok("A page", page("Subscriber")), **errors(422)},
        params=[{"name": "q", "in": "query", "description": "Part of the email or name", "schema": {"type": "string", "maxLength": 200}},
                {"name": "status", "in": "query", "schema": ref("SubscriberStatus")},
                {"name": "listId", "in": "query", "schema": {"type": "string", "format": "uuid"}}, LIMIT, CURSOR]),
}
paths["/v1/campaigns/subscribers/{id}"] = {
    "parameters": [ID],
    "get": op("getSubscriber", "A subscriber", "subscribers", {**ok("The subscriber", ref("Subscriber"), headers=ETAG), **errors(404)}),
    "patch": op("updateSubscriber", "Change a subscriber (attributes replace the whole object)", "subscribers",
        {**ok("The subscriber", ref("Subscriber"), headers=ETAG), **errors(403, 404, 409, 412, 422)}, params=[IFMATCH],
        body=json_body({"type": "object", "properties": {"email": {"type": "string", "maxLength": 320}, "name": {"type": "string", "maxLength": 200},
            "attributes": {"type": "object"}, "status": ref("SubscriberStatus")}})),
    "delete": op("deleteSubscriber", "Delete a subscriber and their memberships", "subscribers",
        {"204": {"description": "Deleted"}, **errors(403, 404, 412)}, params=[IFMATCH]),
}
paths["/v1/campaigns/subscribers/{id}/lists"] = {"parameters": [ID],
    "get": op("listSubscriberLists", "The lists a subscriber is on, with the status on each", "subscribers",
        {**ok("The memberships", page("ListMembership")), **errors(404)})}

# Lists
list_props = {"name": {"type": "string", "minLength": 1, "maxLength": 200}, "description": {"type": ["string", "null"], "maxLength": 2000},
    "visibility": {"type": "string", "enum": ["public", "private"]}, "optIn": {"type": "string", "enum": ["single", "double"]}}
paths["/v1/campaigns/lists"] = {
    "post": op("createList", "Create a list", "lists", {**ok("The list", ref("MailingList"), "201", {**ETAG, **LOC}), **errors(403, 409, 422)},
        body=json_body({"type": "object", "required": ["name"], "properties": list_props})),
    "get": op("listLists", "Lists, newest first, with their members by status", "lists", {**ok("A page", page("MailingList")), **errors(422)},
        params=[LIMIT, CURSOR]),
}
paths["/v1/campaigns/lists/{id}"] = {"parameters": [ID],
    "get": op("getList", "A list", "lists", {**ok("The list", ref("MailingList"), headers=ETAG), **errors(404)}),
    "patch": op("updateList", "Change a list", "lists", {**ok("The list", ref("MailingList"), headers=ETAG), **errors(403, 404, 409, 412, 422)},
        params=[IFMATCH], body=json_body({"type": "object", "properties": list_props})),
    "delete": op("deleteList", "Delete a list and its memberships (the subscribers stay)", "lists",
        {"204": {"description": "Deleted"}, **errors(403, 404, 412)}, params=[IFMATCH]),
}
paths["/v1/campaigns/lists/{id}/subscribers"] = {"parameters": [ID],
    "get": op("listListMembers", "A list's members, by subscriber id", "lists", {**ok("A page", page("ListMembership")), **errors(404, 422)},
        params=[{"name": "status", "in": "query", "schema": ref("MembershipStatus")}, LIMIT, CURSOR]),
    "post": op("addListMembers", "Put subscribers on the list", "lists",
        {**ok("How many", {"type": "object", "required": ["added"], "properties": {"added": {"type": "integer"}}}), **errors(403, 404, 422)},
        desc="Without status: confirmed on a single opt-in list, unconfirmed on a double one; someone who unsubscribed stays so unless a status is given.",
        body=json_body({"type": "object", "required": ["subscriberIds"], "properties": {
            "subscriberIds": {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 1, "maxItems": 1000},
            "status": ref("MembershipStatus")}})),
}
member_params = [ID, {"name": "subscriberId", "in": "path", "required": True, "schema": {"type": "string"}}]
paths["/v1/campaigns/lists/{id}/subscribers/{subscriberId}"] = {"parameters": member_params,
    "patch": op("setListMemberStatus", "Set a member's status on the list", "lists",
        {**ok("The membership", ref("ListMembership")), **errors(403, 404, 422)},
        body=json_body({"type": "object", "required": ["status"], "properties": {"status": ref("MembershipStatus")}})),
    "delete": op("removeListMember", "Take a subscriber off the list", "lists", {"204": {"description": "Removed"}, **errors(403, 404)}),
}

# Segments
seg_desc = ("The segment language: conditions on `email`, `name`, `status`, `created_at` and `attributes.<key>[.<key>…]` with "
    "`=`, `!=`, `<`, `<=`, `>`, `>=`, `contains`, `starts_with`, `ends_with`, `in (…)` and `<attribute> exists`; memberships with "
    "`in_list(\"<id>\")` and `confirmed_in(\"<id>\")`; combined with `and`, `or`, `not` and parentheses. Values: \"strings\", numbers, "
    "true, false, null; created_at takes a date in quotes. Example: `attributes.plan = \"pro\" and not email ends_with \"@example.com\"`. "
    "It is compiled to parameterised SQL; a syntax error answers 422 with its position.")
seg_body = {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}, "expression": {"type": "string", "maxLength": 4000}}}
matching = {"type": "object", "required": ["count", "items"], "properties": {"count": {"type": "integer"},
    "items": {"type": "array", "items": ref("Subscriber")}, "nextCursor": {"type": ["string", "null"]}}}
paths["/v1/campaigns/segments"] = {
    "post": op("createSegment", "Save a segment", "segments", {**ok("The segment", ref("Segment"), "201", {**ETAG, **LOC}), **errors(403, 409, 422)},
        body=json_body({**seg_body, "required": ["name", "expression"]}), desc=seg_desc),
    "get": op("listSegments", "Segments, newest first", "segments", {**ok("A page", page("Segment")), **errors(422)}, params=[LIMIT, CURSOR]),
}
paths["/v1/campaigns/segments/preview"] = {
    "post": op("previewSegment", "How many subscribers an expression matches, and the newest ten", "segments",
        {**ok("The match", matching), **errors(422)}, body=json_body({"type": "object", "required": ["expression"],
            "properties": {"expression": {"type": "string", "maxLength": 4000}}}), desc=seg_desc)}
paths["/v1/campaigns/segments/{id}"] = {"parameters": [ID],
    "get": op("getSegment", "A segment", "segments", {**ok("The segment", ref("Segment"), headers=ETAG), **errors(404)}),
    "patch": op("updateSegment", "Rename a segment or change its expression", "segments",
        {**ok("The segment", ref("Segment"), headers=ETAG), **errors(403, 404, 409, 412, 422)}, params=[IFMATCH], body=json_body(seg_body)),
    "delete": op("deleteSegment", "Delete a segment", "segments", {"204": {"description": "Deleted"}, **errors(403, 404, 412)}, params=[IFMATCH]),
}
paths["/v1/campaigns/segments/{id}/subscribers"] = {"parameters": [ID],
    "get": op("listSegmentSubscribers", "Who the segment matches now: the count and a page, newest first", "segments",
        {**ok("The match", matching), **errors(404, 422)}, params=[LIMIT, CURSOR])}

# Templates
tpl_content = {"subject": {"type": "string", "maxLength": 500}, "html": {"type": "string"}, "text": {"type": ["string", "null"]},
    "variables": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"}, "maxItems": 100}}
tpl_desc = ("Mustache. Templates may read the platform's variables (subscriber, email, name, attributes, unsubscribeUrl, preferencesUrl, "
    "campaign, tenantName) and those they declare; partials are the tenant's (`{{> footer}}`). A marketing template must contain "
    "`{{unsubscribeUrl}}` (in the text part too, when there is one). Refusals answer 422 with the part and reason.")
paths["/v1/campaigns/templates"] = {
    "post": op("createTemplate", "Create a template (its version 1)", "templates",
        {**ok("The template", ref("Template"), "201", {**ETAG, **LOC}), **errors(403, 409, 422)}, desc=tpl_desc,
        body=json_body({"type": "object", "required": ["name", "subject", "html"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200}, "kind": {"type": "string", "enum": ["marketing", "transactional"]},
            **tpl_content}})),
    "get": op("listTemplates", "Templates, newest first", "templates", {**ok("A page", page("Template")), **errors(422)}, params=[LIMIT, CURSOR]),
}
paths["/v1/campaigns/templates/{id}"] = {"parameters": [ID],
    "get": op("getTemplate", "A template with its latest version", "templates", {**ok("The template", ref("Template"), headers=ETAG), **errors(404)}),
    "patch": op("updateTemplate", "Rename a template or change its kind", "templates",
        {**ok("The template", ref("Template"), headers=ETAG), **errors(403, 404, 409, 422)},
        body=json_body({"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
            "kind": {"type": "string", "enum": ["marketing", "transactional"]}}})),
    "delete": op("deleteTemplate", "Delete a template and its versions", "templates", {"204": {"description": "Deleted"}, **errors(403, 404)}),
}
paths["/v1/campaigns/templates/{id}/versions"] = {"parameters": [ID],
    "post": op("saveTemplateVersion", "Save a new version (If-Match: the latest version you read)", "templates",
        {**ok("The template, at its new version", ref("Template"), "201", {**ETAG, **LOC}), **errors(403, 404, 412, 422)}, params=[IFMATCH],
        desc=tpl_desc, body=json_body({"type": "object", "required": ["subject", "html"], "properties": tpl_content})),
    "get": op("listTemplateVersions", "Versions, newest first", "templates", {**ok("A page", page("TemplateVersion")), **errors(404, 422)},
        params=[LIMIT, CURSOR]),
}
version_params = [ID, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]
paths["/v1/campaigns/templates/{id}/versions/{version}"] = {"parameters": version_params,
    "get": op("getTemplateVersion", "One version", "templates", {**ok("The version", ref("TemplateVersion")), **errors(404)})}
paths["/v1/campaigns/templates/{id}/versions/{version}/restore"] = {"parameters": version_params,
    "post": op("restoreTemplateVersion", "Save an old version again as the newest", "templates",
        {**ok("The template, at its new version", ref("Template"), "201", ETAG), **errors(403, 404, 422)})}
paths["/v1/campaigns/templates/{id}/diff"] = {"parameters": [ID],
    "get": op("diffTemplateVersions", "Two versions compared part by part, line by line", "templates",
        {**ok("The diff", ref("TemplateDiff")), **errors(404, 422)},
        params=[{"name": "from", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}},
                {"name": "to", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}}])}
paths["/v1/campaigns/templates/{id}/preview"] = {"parameters": [ID],
    "post": op("previewTemplate", "Render a version with sample data or for a real subscriber", "templates",
        {**ok("The rendered email", ref("Preview")), **errors(404, 422)},
        body=json_body({"type": "object", "properties": {"version": {"type": "integer", "minimum": 1},
            "subscriberId": {"type": "string", "format": "uuid"}, "data": {"type": "object", "description": "Values of the declared variables"}}}))}

# Partials
name_param = {"name": "name", "in": "path", "required": True, "description": "Lower-case letters, digits, _ and -", "schema": {"type": "string"}}
paths["/v1/campaigns/partials"] = {"get": op("listPartials", "The tenant's partials", "templates", {**ok("All of them", page("Partial")), **errors()})}
paths["/v1/campaigns/partials/{name}"] = {"parameters": [name_param],
    "get": op("getPartial", "A partial", "templates", {**ok("The partial", ref("Partial"), headers=ETAG), **errors(404)}),
    "put": op("putPartial", "Create or replace a partial", "templates",
        {**ok("Replaced", ref("Partial"), headers=ETAG), **ok("Created", ref("Partial"), "201", ETAG), **errors(403, 404, 412, 422)},
        params=[IFMATCH], body=json_body({"type": "object", "required": ["body"], "properties": {"body": {"type": "string"}}})),
    "delete": op("deletePartial", "Delete a partial no template's latest version includes", "templates",
        {"204": {"description": "Deleted"}, **errors(403, 404, 409)}),
}

uuid_s = {"type": "string", "format": "uuid"}
dt_s = {"type": "string", "format": "date-time"}

# Campaigns
camp_props = {"name": {"type": "string", "minLength": 1, "maxLength": 200}, "templateId": uuid_s,
    "templateVersion": {"type": "integer", "minimum": 1, "description": "The version to pin; the latest when absent"},
    "fromName": {"type": "string", "maxLength": 200}, "fromEmail": {"type": "string", "maxLength": 320},
    "replyTo": {"type": "string", "maxLength": 320},
    "listIds": {"type": "array", "items": uuid_s, "maxItems": 50}, "segmentIds": {"type": "array", "items": uuid_s, "maxItems": 20},
    "data": {"type": "object", "description": "Values of the template's declared variables"},
    "ratePerSecond": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
    "maxConsecutiveFailures": {"type": "integer", "minimum": 1, "maximum": 10000},
    "maxPerHour": {"type": "integer", "minimum": 1, "description": "At most this many messages in any 60 minutes"},
    "abTest": {"type": "object", "required": ["variants", "testPercent", "metric", "waitMinutes"],
        "description": ("2 to 4 variants of the subject and/or template version, sent to testPercent of the audience (each recipient's "
                        "variant fixed by a hash); after waitMinutes the best open or click rate wins (or POST /winner) and goes to the rest"),
        "properties": {"variants": {"type": "array", "minItems": 2, "maxItems": 4, "items": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}, "subject": {"type": "string", "maxLength": 500},
            "templateVersion": {"type": "integer", "minimum": 1}}}},
            "testPercent": {"type": "integer", "minimum": 1, "maximum": 50}, "metric": {"type": "string", "enum": ["open", "click", "manual"]},
            "waitMinutes": {"type": "integer", "minimum": 1, "maximum": 10080}}}}
camp_desc = ("States: draft → scheduled → running ⇄ paused → finished; cancelled from any state before finished. A move the state "
    "does not allow answers 409. Only a draft is edited.")
paths["/v1/campaigns"] = {
    "post": op("createCampaign", "Create a draft campaign", "campaigns", {**ok("The campaign", ref("Campaign"), "201", {**ETAG, **LOC}),
        **errors(403, 422)}, body=json_body({"type": "object", "required": ["name", "templateId", "fromEmail"], "properties": camp_props}),
        desc=camp_desc),
    "get": op("listCampaigns", "Campaigns, newest first", "campaigns", {**ok("A page", page("Campaign")), **errors(422)},
        params=[{"name": "state", "in": "query", "schema": ref("CampaignState")}, LIMIT, CURSOR]),
}
paths["/v1/campaigns/{id}"] = {"parameters": [ID],
    "get": op("getCampaign", "A campaign", "campaigns", {**ok("The campaign", ref("Campaign"), headers=ETAG), **errors(404)}),
    "patch": op("updateCampaign", "Change a draft", "campaigns", {**ok("The campaign", ref("Campaign"), headers=ETAG),
        **errors(403, 404, 409, 412, 422)}, params=[IFMATCH], body=json_body({"type": "object", "properties": camp_props})),
    "delete": op("deleteCampaign", "Delete a draft, finished or cancelled campaign with its send records", "campaigns",
        {"204": {"description": "Deleted"}, **errors(403, 404, 409)}),
}
paths["/v1/campaigns/{id}/launch"] = {"parameters": [ID],
    "post": op("launchCampaign", "Start now, or at a time", "campaigns",
        {**ok("Running (its audience frozen) or scheduled", ref("Campaign"), "202", ETAG), **errors(403, 404, 409, 412, 422)}, params=[IFMATCH],
        desc=("The audience is frozen when it starts: confirmed members of its lists and everyone its segments match, once each, "
              "enabled, not suppressed. 409 past the plan's monthly campaign emails."),
        body={"required": False, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time", "description": "Absent or past: now"},
            "timeZone": {"type": "string", "description": "IANA name, e.g. Europe/Berlin"}}}}}})}
for move, summary in [("pause", "Pause a running campaign"), ("resume", "Resume a paused campaign"), ("cancel", "Cancel a campaign that has not finished")]:
    paths[f"/v1/campaigns/{{id}}/{move}"] = {"parameters": [ID],
        "post": op(f"{move}Campaign", summary, "campaigns", {**ok("The campaign", ref("Campaign"), headers=ETAG), **errors(403, 404, 409, 412)},
            params=[IFMATCH])}
paths["/v1/campaigns/{id}/winner"] = {"parameters": [ID],
    "post": op("pickWinner", "End the A/B test now: the named variant, or the best so far, goes to the recipients held back", "campaigns",
        {**ok("The campaign", ref("Campaign"), headers=ETAG), **errors(403, 404, 409, 422)},
        body={"required": False, "content": {"application/json": {"schema": {"type": "object", "properties": {"variant": {"type": "string"}}}}}})}
paths["/v1/campaigns/{id}/status"] = {"parameters": [ID],
    "get": op("getCampaignStatus", "How the campaign goes: sends by state and per minute", "campaigns",
        {**ok("The status", ref("CampaignStatus")), **errors(404)})}
token_param = {"name": "token", "in": "path", "required": True, "description": "The signed token of the email's link", "schema": {"type": "string"}}
html_ok = {"200": {"description": "A page", "content": {"text/html": {"schema": {"type": "string"}}}}, "404": resp("NotFound"),
    "400": resp("BadRequest"), "429": resp("TooManyRequests")}
supp = {"type": "object", "required": ["email", "reason", "createdAt"], "properties": {"email": {"type": "string"},
    "reason": {"type": "string", "enum": ["hard_bounce", "complaint", "manual"]}, "detail": {"type": "string"}, "createdAt": dt_s}}
paths["/v1/campaigns/suppressions"] = {
    "get": op("listSuppressions", "Addresses no campaign mails, by address", "suppressions",
        {**ok("A page", {"allOf": [ref("PageInfo"), {"properties": {"items": {"type": "array", "items": supp}}}]}), **errors(422)},
        params=[LIMIT, CURSOR]),
    "post": op("addSuppression", "Suppress an address by hand (announced on campaigns.suppression.v1; notifications stops too)", "suppressions",
        {**ok("Already suppressed", supp), **ok("Suppressed", supp, "201"), **errors(403, 422)},
        body=json_body({"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "maxLength": 320},
            "detail": {"type": "string", "maxLength": 500}}})),
}
paths["/v1/campaigns/suppressions/{email}"] = {"parameters": [{"name": "email", "in": "path", "required": True, "schema": {"type": "string"}}],
    "delete": op("removeSuppression", "Mail an address again", "suppressions", {"204": {"description": "Removed"}, **errors(403, 404)})}
paths["/v1/campaigns/bounces"] = {
    "post": op("reportBounces", "Hand in a bounce or complaint report, as a mail server pipes it", "suppressions",
        {**ok("What was applied", {"type": "object", "required": ["reports", "applied"], "properties": {"reports": {"type": "integer"},
            "applied": {"type": "object", "required": ["hard", "soft", "complaints", "ignored"], "properties": {
                "hard": {"type": "integer"}, "soft": {"type": "integer"}, "complaints": {"type": "integer"}, "ignored": {"type": "integer"}}}}}),
         **errors(403, 422), "413": resp("Invalid")},
        desc=("The raw message: an RFC 3464 delivery status notification (a failed action with a 5.x.x status is a hard bounce: the "
              "send is marked and the address suppressed; 4.x.x or delayed is soft: noted) or an RFC 5965 abuse report (a complaint: "
              "suppressed and unsubscribed from every list). The campaign email is found by the Message-ID the report returns."),
        body={"required": True, "content": {"message/rfc822": {"schema": {"type": "string"}}, "multipart/report": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}}}})}
imp = {"type": "object", "required": ["id", "mode", "listIds", "state", "totalBytes", "progress", "rows", "created", "updated", "skipped",
    "failed", "errors", "createdAt"], "properties": {"id": uuid_s, "mode": {"type": "string", "enum": ["upsert", "skip"]},
    "listIds": {"type": "array", "items": uuid_s}, "state": {"type": "string", "enum": ["receiving", "queued", "running", "finished", "failed"]},
    "totalBytes": {"type": "integer"}, "progress": {"type": "number", "minimum": 0, "maximum": 1}, "rows": {"type": "integer"},
    "created": {"type": "integer"}, "updated": {"type": "integer"}, "skipped": {"type": "integer"}, "failed": {"type": "integer"},
    "errors": {"type": "array", "description": "The first 1000 rows refused", "items": {"type": "object", "required": ["line", "field", "reason"],
        "properties": {"line": {"type": "integer"}, "field": {"type": "string"}, "reason": {"type": "string"}}}},
    "error": {"type": "string"}, "createdAt": dt_s, "finishedAt": dt_s}}
paths["/v1/campaigns/imports"] = {
    "post": op("importSubscribers", "Import subscribers from CSV, as a job", "subscribers",
        {**ok("The import, queued", imp, "202", LOC), **errors(403, 422), "413": resp("Invalid")},
        params=[{"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["upsert", "skip"], "default": "upsert"}},
                {"name": "listIds", "in": "query", "description": "Lists to put every imported subscriber on, comma-separated", "schema": {"type": "string"}}],
        desc=("The body is the CSV (at most 256 MB): a header line naming an `email` column, optionally `name` and `status`; every other "
              "column becomes a string attribute. upsert updates existing subscribers (name, status, attributes merged); skip leaves them. "
              "An address twice in the file: its last row wins. Refused rows are reported by line, field and reason; rows past the plan's "
              "subscriber quota are refused."),
        body={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}})}
paths["/v1/campaigns/imports/{id}"] = {"parameters": [ID],
    "get": op("getImport", "An import's progress and outcome", "subscribers", {**ok("The import", imp), **errors(404)})}
paths["/v1/campaigns/subscribers/export.csv"] = {
    "get": op("exportSubscribers", "Every subscriber as CSV, streamed", "subscribers",
        {"200": {"description": "email, name, status, attributes (JSON), created_at", "content": {"text/csv": {"schema": {"type": "string"}}}},
         **errors()})}
dkim_key = {"type": "object", "required": ["domain", "selector", "algorithm", "dnsName", "dnsRecord", "createdAt"], "properties": {
    "domain": {"type": "string"}, "selector": {"type": "string"}, "algorithm": {"type": "string", "enum": ["rsa-sha256", "ed25519-sha256"]},
    "dnsName": {"type": "string", "description": "Where to publish the TXT record"}, "dnsRecord": {"type": "string"}, "createdAt": dt_s}}
paths["/v1/admin/campaigns/dkim"] = {
    "get": op("listDKIMKeys", "The tenant's DKIM keys by sending domain (owners and admins)", "dkim",
        {**ok("All of them", {"allOf": [ref("PageInfo"), {"properties": {"items": {"type": "array", "items": dkim_key}}}]}), **errors(403)})}
paths["/v1/admin/campaigns/dkim/{domain}"] = {"parameters": [{"name": "domain", "in": "path", "required": True, "schema": {"type": "string"}}],
    "put": op("putDKIMKey", "Make the domain's DKIM key (the first, or a rotation); answers the DNS record to publish", "dkim",
        {**ok("Rotated", dkim_key), **ok("Made", dkim_key, "201"), **errors(403, 404, 422)},
        desc="Campaign mail from the domain is then signed (relaxed/relaxed). The private key never leaves the service.",
        body={"required": False, "content": {"application/json": {"schema": {"type": "object", "properties": {
            "selector": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
            "algorithm": {"type": "string", "enum": ["rsa-sha256", "ed25519-sha256"], "default": "rsa-sha256"}}}}}}),
    "delete": op("deleteDKIMKey", "Stop signing the domain's mail", "dkim", {"204": {"description": "Deleted"}, **errors(403, 404)})}
sender = {"type": "object", "required": ["id", "email", "verified", "createdAt"], "properties": {"id": uuid_s, "email": {"type": "string"},
    "verified": {"type": "boolean"}, "verifiedAt": dt_s, "createdAt": dt_s}}
paths["/v1/admin/campaigns/senders"] = {
    "get": op("listSenders", "The addresses campaigns may come from (owners and admins)", "senders",
        {**ok("All of them", {"allOf": [ref("PageInfo"), {"properties": {"items": {"type": "array", "items": sender}}}]}), **errors(403)}),
    "post": op("addSender", "Add a sender address: a link to prove it is emailed to it; campaigns start only from proven ones", "senders",
        {**ok("Known already (the link is sent again unless proven)", sender), **ok("Added", sender, "201"), **errors(403, 422)},
        body=json_body({"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "maxLength": 320}}}))}
paths["/v1/admin/campaigns/senders/{id}"] = {"parameters": [ID],
    "delete": op("deleteSender", "Remove a sender address", "senders", {"204": {"description": "Removed"}, **errors(403, 404)})}
paths["/v1/campaigns/t/verify-sender/{token}"] = {"parameters": [token_param],
    "get": {"operationId": "verifySender", "summary": "The sender verification email's link: proves the address", "tags": ["public"],
        "security": [], "responses": html_ok}}
paths["/v1/campaigns/t/open/{token}"] = {"parameters": [token_param],
    "get": {"operationId": "trackOpen", "summary": "The open pixel: a 1 × 1 GIF, the open counted", "tags": ["public"], "security": [],
        "responses": {"200": {"description": "The pixel", "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}}},
            "400": resp("BadRequest"), "404": resp("NotFound"), "429": resp("TooManyRequests")}}}
paths["/v1/campaigns/t/click/{token}"] = {"parameters": [token_param],
    "get": {"operationId": "trackClick", "summary": "A tracked link: counted, then redirected to the address the token was signed for",
        "tags": ["public"], "security": [],
        "parameters": [{"name": "u", "in": "query", "required": True, "description": "The link's address (signed with the token)",
            "schema": {"type": "string", "maxLength": 4096}}],
        "responses": {"302": {"description": "To the link's address", "headers": {"Location": {"schema": {"type": "string"}}}},
            "400": resp("BadRequest"), "404": resp("NotFound"), "429": resp("TooManyRequests")}}}
paths["/v1/campaigns/t/confirm/{token}"] = {"parameters": [token_param],
    "get": {"operationId": "confirmSubscription", "summary": "The double opt-in email's link: confirms the membership", "tags": ["public"],
        "security": [], "responses": html_ok}}
paths["/v1/campaigns/t/preferences/{token}"] = {"parameters": [token_param],
    "get": {"operationId": "preferencePage", "summary": "The subscriber's lists (the tenant's public ones and those they are on), a box each",
        "tags": ["public"], "security": [], "responses": html_ok},
    "post": {"operationId": "savePreferences", "summary": "Save the boxes (form fields list=<id>): subscribe to those checked, unsubscribe from the rest",
        "tags": ["public"], "security": [], "responses": html_ok}}
paths["/v1/campaigns/t/unsubscribe/{token}"] = {"parameters": [token_param],
    "get": {"operationId": "unsubscribePage", "summary": "What the unsubscribe link will do, with a button to confirm", "tags": ["public"],
        "security": [], "responses": html_ok},
    "post": {"operationId": "unsubscribe", "summary": "Unsubscribe (the page's button, or a mail client's one-click POST, RFC 8058)",
        "tags": ["public"], "security": [], "responses": html_ok},
}

schemas = collections.OrderedDict()
schemas["Problem"] = {"type": "object", "description": "RFC 9457 problem details", "required": ["type", "title", "status"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {
        "field": {"type": "string"}, "message": {"type": "string"}}}}}}
schemas["PageInfo"] = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"},
    "nextCursor": {"type": ["string", "null"], "description": "Absent on the last page"}}}
schemas["SubscriberStatus"] = {"type": "string", "enum": ["enabled", "blocklisted"]}
schemas["MembershipStatus"] = {"type": "string", "enum": ["unconfirmed", "confirmed", "unsubscribed"]}
uuid = {"type": "string", "format": "uuid"}; dt = {"type": "string", "format": "date-time"}
schemas["Subscriber"] = {"type": "object", "required": ["id", "email", "name", "attributes", "status", "version", "createdAt", "updatedAt"],
    "properties": {"id": uuid, "email": {"type": "string", "description": "Trimmed and lower-cased"}, "name": {"type": "string"},
        "attributes": {"type": "object"}, "status": ref("SubscriberStatus"), "version": {"type": "integer"}, "createdAt": dt, "updatedAt": dt}}
schemas["MailingList"] = {"type": "object", "required": ["id", "name", "visibility", "optIn", "version", "createdAt", "updatedAt"],
    "properties": {"id": uuid, "name": {"type": "string"}, "description": {"type": "string"},
        "visibility": {"type": "string", "enum": ["public", "private"]}, "optIn": {"type": "string", "enum": ["single", "double"]},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "Members by status"},
        "version": {"type": "integer"}, "createdAt": dt, "updatedAt": dt}}
schemas["ListMembership"] = {"type": "object", "required": ["listId", "subscriberId", "email", "name", "status", "createdAt", "updatedAt"],
    "properties": {"listId": uuid, "subscriberId": uuid, "email": {"type": "string"}, "name": {"type": "string"},
        "status": ref("MembershipStatus"), "createdAt": dt, "updatedAt": dt}}
schemas["Segment"] = {"type": "object", "required": ["id", "name", "expression", "version", "createdAt", "updatedAt"],
    "properties": {"id": uuid, "name": {"type": "string"}, "expression": {"type": "string"}, "version": {"type": "integer"},
        "createdAt": dt, "updatedAt": dt}}
schemas["TemplateVersion"] = {"type": "object", "required": ["templateId", "version", "subject", "html", "variables", "createdBy", "createdAt"],
    "properties": {"templateId": uuid, "version": {"type": "integer"}, "subject": {"type": "string"}, "html": {"type": "string"},
        "text": {"type": "string", "description": "Absent: made from the HTML when sent"}, "variables": {"type": "array", "items": {"type": "string"}},
        "restoredFrom": {"type": "integer"}, "createdBy": {"type": "string"}, "createdAt": dt}}
schemas["Template"] = {"type": "object", "required": ["id", "name", "kind", "latestVersion", "createdAt", "updatedAt"],
    "properties": {"id": uuid, "name": {"type": "string"}, "kind": {"type": "string", "enum": ["marketing", "transactional"]},
        "latestVersion": {"type": "integer"}, "latest": ref("TemplateVersion"), "createdAt": dt, "updatedAt": dt}}
line_diff = {"type": "object", "required": ["lines", "added", "removed"], "properties": {
    "lines": {"type": "array", "items": {"type": "object", "required": ["op", "text"], "properties": {
        "op": {"type": "string", "enum": ["=", "-", "+"]}, "text": {"type": "string"}}}},
    "added": {"type": "integer"}, "removed": {"type": "integer"}}}
schemas["LineDiff"] = line_diff
schemas["TemplateDiff"] = {"type": "object", "required": ["from", "to", "subject", "html", "text", "variables"], "properties": {
    "from": {"type": "integer"}, "to": {"type": "integer"}, "subject": ref("LineDiff"), "html": ref("LineDiff"), "text": ref("LineDiff"),
    "variables": ref("LineDiff")}}
schemas["Preview"] = {"type": "object", "required": ["version", "subject", "html", "text", "variables"], "properties": {
    "version": {"type": "integer"}, "subject": {"type": "string"}, "html": {"type": "string"}, "text": {"type": "string"},
    "variables": {"type": "object", "required": ["used", "missing"], "properties": {
        "used": {"type": "array", "items": {"type": "string"}}, "missing": {"type": "array", "items": {"type": "string"}}}}}}
schemas["CampaignState"] = {"type": "string", "enum": ["draft", "scheduled", "running", "paused", "finished", "cancelled"]}
schemas["Campaign"] = {"type": "object", "required": ["id", "name", "templateId", "templateVersion", "fromName", "fromEmail", "listIds",
    "segmentIds", "data", "state", "timeZone", "ratePerSecond", "maxConsecutiveFailures", "version", "createdAt", "updatedAt"],
    "properties": {"id": uuid, "name": {"type": "string"}, "templateId": uuid, "templateVersion": {"type": "integer"},
        "fromName": {"type": "string"}, "fromEmail": {"type": "string"}, "replyTo": {"type": "string"},
        "listIds": {"type": "array", "items": uuid}, "segmentIds": {"type": "array", "items": uuid}, "data": {"type": "object"},
        "state": ref("CampaignState"), "scheduledAt": dt, "timeZone": {"type": "string"}, "ratePerSecond": {"type": "number"},
        "maxConsecutiveFailures": {"type": "integer"}, "pauseReason": {"type": "string"},
        "audience": {"type": "integer", "description": "Recipients frozen when it started"}, "startedAt": dt, "finishedAt": dt,
        "abTest": {"type": "object"}, "winner": {"type": "string"}, "maxPerHour": {"type": "integer"},
        "version": {"type": "integer"}, "createdAt": dt, "updatedAt": dt}}
schemas["CampaignStatus"] = {"type": "object", "required": ["id", "state", "audience", "queued", "sending", "sent", "failed", "bounced", "perMinute",
    "engagement", "held"],
    "properties": {"id": uuid, "state": ref("CampaignState"), "audience": {"type": "integer"}, "queued": {"type": "integer"},
        "sending": {"type": "integer"}, "sent": {"type": "integer"}, "failed": {"type": "integer"}, "bounced": {"type": "integer"},
        "pauseReason": {"type": "string"}, "startedAt": dt, "finishedAt": dt,
        "perMinute": {"type": "array", "items": {"type": "object", "required": ["minute", "sent"], "properties": {"minute": dt, "sent": {"type": "integer"}}}},
        "held": {"type": "integer", "description": "Recipients waiting for the A/B test's winner"}, "winner": {"type": "string"},
        "variants": {"type": "array", "items": {"type": "object", "required": ["name", "sent", "uniqueOpens", "uniqueClicks", "openRate", "clickRate"],
            "properties": {"name": {"type": "string"}, "sent": {"type": "integer"}, "uniqueOpens": {"type": "integer"},
                "uniqueClicks": {"type": "integer"}, "openRate": {"type": "number"}, "clickRate": {"type": "number"}}}},
        "engagement": {"type": "object", "required": ["opens", "uniqueOpens", "clicks", "uniqueClicks", "links"], "properties": {
            "opens": {"type": "integer"}, "uniqueOpens": {"type": "integer"}, "clicks": {"type": "integer"}, "uniqueClicks": {"type": "integer"},
            "links": {"type": "array", "items": {"type": "object", "required": ["url", "clicks", "uniqueClicks"], "properties": {
                "url": {"type": "string"}, "clicks": {"type": "integer"}, "uniqueClicks": {"type": "integer"}}}}}}}}
schemas["Partial"] = {"type": "object", "required": ["name", "body", "version", "updatedAt"], "properties": {
    "name": {"type": "string"}, "body": {"type": "string"}, "version": {"type": "integer"}, "updatedAt": dt}}

def problem_resp(desc): return {"description": desc, "content": {"application/problem+json": {"schema": ref("Problem")}}}
responses = {
    "BadRequest": problem_resp("The request is malformed: not JSON, a bad cursor or If-Match, a NUL character"),
    "Unauthorized": problem_resp("No valid access token"),
    "Forbidden": problem_resp("The caller's role does not allow it"),
    "NotFound": problem_resp("No such resource in the caller's tenant"),
    "Conflict": problem_resp("The state does not allow it: a name or address taken, a quota reached, still in use"),
    "PreconditionFailed": problem_resp("If-Match names an older version"),
    "Invalid": problem_resp("Fields are not valid; `errors` names each"),
    "TooManyRequests": {"description": "A rate limit; see Retry-After", "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/problem+json": {"schema": ref("Problem")}}},
}
doc = {
    "openapi": "3.1.0",
    "info": {"title": "Campaigns", "version": "1", "description": (
        "A tenant's marketing email: the audience (subscribers, lists with their members, segments in a small filter language), "
        "templates (immutable versions, diffs, restores, previews, the tenant's partials), and campaigns sent at a pace to a frozen "
        "audience with one-click unsubscribe, open and click tracking, bounce and complaint reports and suppressions, and CSV import and "
        "export of subscribers. A/B tests and DKIM signing are not built yet. Every row belongs to the caller's tenant: an id of another tenant answers 404, "
        "like an unknown one. Errors are RFC 9457 problem documents (`application/problem+json`). Writes need the role owner, admin or "
        "member.\n")},
    "servers": [{"url": "/", "description": "The gateway (paths are the public ones)"}],
    "security": [{"bearer": []}],
    "tags": [{"name": n} for n in ["subscribers", "lists", "segments", "templates", "campaigns", "suppressions", "dkim", "senders", "public"]],
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A user's access token from auth"}},
        "headers": {"ETag": {"description": "The version, as `\"v3\"`; send it back in If-Match", "schema": {"type": "string"}},
                    "Location": {"description": "Where the new resource is", "schema": {"type": "string"}}},
        "parameters": {
            "Id": {"name": "id", "in": "path", "required": True, "description": "A UUID; anything else names nothing (404)", "schema": {"type": "string"}},
            "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
            "Cursor": {"name": "cursor", "in": "query", "description": "The nextCursor of the previous page", "schema": {"type": "string"}},
            "IfMatch": {"name": "If-Match", "in": "header", "description": "The ETag you read (`\"v3\"`); a stale one answers 412", "schema": {"type": "string"}},
        },
        "responses": responses,
        "schemas": dict(schemas),
    },
}
class Dumper(yaml.SafeDumper): pass
Dumper.add_representer(collections.OrderedDict, lambda d, data: d.represent_dict(data.items()))
Dumper.ignore_aliases = lambda *a: True
out = yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=130, allow_unicode=True)
open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "contracts", "openapi", "campaigns.yaml"), "w").write(out)
