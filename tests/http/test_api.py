"""The REST API through its real HTTP server, inside `watcher run --listen`, on the PBS
simulator and the Globus emulator."""

from __future__ import annotations

from tests.http._served import Served, eventually, spec_yaml
from tests.workflows._staging import Staging


def test_a_workflow_submitted_with_a_key_runs_once_and_its_steps_are_served(
        served: Served, world: Staging) -> None:
    body = {"spec": spec_yaml(world), "workdir": str(world.run_dir)}
    first = served.call("POST", "/api/v1/workflows", json=body,
                        headers={"Idempotency-Key": "gateway-42"})
    assert first.status_code == 201, first.text
    wf = first.json()["workflow"]
    again = served.call("POST", "/api/v1/workflows", json=body,
                        headers={"Idempotency-Key": "gateway-42"})
    assert (again.status_code, again.json()["workflow"], again.json()["replayed"]) == (
        200, wf, True)
    as_file = served.call("POST", "/api/v1/workflows", data=body["spec"], params={
        "workdir": body["workdir"]}, headers={"Idempotency-Key": "gateway-42",
                                              "Content-Type": "application/yaml"})
    assert (as_file.status_code, as_file.json()["workflow"]) == (200, wf)  # the same request
    rows = served.get("/api/v1/workflows")
    assert [row["id"] for row in rows] == [wf]
    done = eventually(lambda: (d := served.get(f"/api/v1/workflows/{wf}"))["step"] == "done"
                      and d)
    assert [s["name"] for s in done["steps"]] == ["stage-in", "compute", "stage-out", "cleanup"]
    assert done["steps"][1]["after"] == ["stage-in"]
    assert [s["status"] for s in done["steps"]] == ["succeeded"] * 3 + ["not needed"]
    [compute] = done["steps"][1]["jobs"]
    assert done["jobs"] == {"compute": compute}  # one job: the cleanup runs on failure only
    assert done["tasks"] == {"stage-in": done["steps"][0]["task"],
                             "stage-out": done["steps"][2]["task"]}
    assert done["summary"] == "3 of 3 steps succeeded"
    mailed = f"mailed me@example.org: [watcher] {wf} (api-run): done"
    log = eventually(lambda: (got := served.get(f"/api/v1/workflows/{wf}/log"))[-1][
        "text"] == mailed and got)
    assert log == served.get(f"/api/v1/workflows/{wf}")["log"]
    assert done["log"] == log[:len(done["log"])]
    assert [(line["step"], line["text"]) for line in log[-2:]] == [
        ("workflow", "done: every step succeeded"), ("workflow", mailed)]
    # In the order it happened, though PBS and Globus stamp their news to the second only.
    said = [f"{line['step']} {line['text']}" for line in log]

    def at(start: str) -> int:
        return next(i for i, text in enumerate(said) if text.startswith(start))

    stage_in, stage_out = done["tasks"]["stage-in"], done["tasks"]["stage-out"]
    order = [at(f"stage-in started: Globus task {stage_in}"),
             at(f"stage-in task {stage_in} succeeded ("), at(f"compute job {compute} released"),
             at(f"compute job {compute} finished (exit 0)"),
             at(f"stage-out started: Globus task {stage_out}"),
             at(f"stage-out task {stage_out} succeeded ("), at("workflow done:")]
    assert order == sorted(order), said
    assert at(f"compute submitted as {compute} (held)") < at(f"compute job {compute} released")
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    other = served.call("POST", "/api/v1/workflows", headers={"Idempotency-Key": "gateway-42"},
                        json={**body, "spec": spec_yaml(world, "another")})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "submission_id_reused"


def test_every_endpoint_needs_the_token_and_a_wrong_one_is_refused(served: Served) -> None:
    spec = served.get("/api/v1/openapi.json")
    paths = [(path, method) for path, item in spec["paths"].items() for method in item]
    assert len(paths) >= 12
    for path, method in [*paths, ("/", "get"), ("/static/app.js", "get")]:
        concrete = path.replace("{workflow_id}", "wf-000000").replace("{silence_id}", "abc")
        for token in (None, "not-the-token"):
            response = served.call(method.upper(), concrete, token=token)
            assert response.status_code == 401, (method, path, token)
            assert served.token not in response.text
    refused = served.call("GET", "/api/v1/rules", token=None)
    assert refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_the_openapi_document_lists_every_route(served: Served) -> None:
    spec = served.get("/api/v1/openapi.json")
    routes = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert routes == {
        ("GET", "/api/v1/workflows"), ("POST", "/api/v1/workflows"),
        ("GET", "/api/v1/workflows/{workflow_id}"),
        ("GET", "/api/v1/workflows/{workflow_id}/log"),
        ("POST", "/api/v1/workflows/{workflow_id}/cancel"),
        ("POST", "/api/v1/workflows/{workflow_id}/retry"),
        ("GET", "/api/v1/rules"), ("GET", "/api/v1/firings"), ("GET", "/api/v1/status"),
        ("GET", "/api/v1/sources"), ("GET", "/api/v1/dead-actions"),
        ("GET", "/api/v1/silences"), ("POST", "/api/v1/silences"),
        ("DELETE", "/api/v1/silences/{silence_id}"), ("GET", "/metrics")}
    body = spec["paths"]["/api/v1/workflows"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/yaml"}


def test_bad_input_gets_a_4xx_with_a_clear_message_and_changes_nothing(
        served: Served, world: Staging) -> None:
    def refused(status: int, code: str, method: str, path: str, **kwargs: object) -> str:
        response = served.call(method, path, **kwargs)
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code, error
        return error["message"]

    assert "not valid JSON" in refused(400, "malformed_json", "POST", "/api/v1/workflows",
                                       data="{nope", headers={"Content-Type":
                                                              "application/json"})
    assert "over 1,048,576 bytes" in refused(413, "body_too_large", "POST",
                                            "/api/v1/workflows", data=b"x" * 10_000_000)
    message = refused(400, "invalid_request", "POST", "/api/v1/workflows",
                      json={"spec": "script: x", "workdir": "/", "wrkdir": "/tmp"})
    assert message == "unknown field 'wrkdir' (did you mean 'workdir'?)"
    bad_spec = served.call("POST", "/api/v1/workflows", json={
        "spec": "script: compute.sh\nstage_in_task: T\nemial: x\nqsub_args: 3\n",
        "workdir": str(world.run_dir)})
    assert bad_spec.status_code == 400
    error = bad_spec.json()["error"]
    assert error["code"] == "invalid_spec"
    assert "spec:3:1: emial: unknown key 'emial' (did you mean 'email'?)" in error["message"]
    assert ("spec:2:16: stage_in_task: string should match pattern '^[0-9a-fA-F-]+$' but got "
            "'T'") in error["message"]  # a task id is hex and dashes
    assert sorted((e["line"], e["col"]) for e in error["errors"]) == [(2, 16), (3, 1), (4, 12)]
    assert "not a workflow id" in refused(400, "invalid_id", "GET",
                                          "/api/v1/workflows/..%2E%2E")
    refused(404, "not_found", "GET", "/api/v1/workflows/..%2F..%2Fetc%2Fpasswd")
    assert "no workflow 'wf-000000'" in refused(404, "not_found", "GET",
                                                "/api/v1/workflows/wf-000000")
    assert "'no-such-rule' is not a rule" in refused(
        400, "unknown_rule", "POST", "/api/v1/silences", json={"rule": "no-such-rule",
                                                               "for": "1h"})
    assert "for:" in refused(400, "invalid_request", "POST", "/api/v1/silences",
                             json={"rule": "x", "for": "soon"})
    assert served.get("/api/v1/workflows") == []
    assert served.get("/api/v1/silences?all=true") == []
    assert served.proc.poll() is None  # nothing of it stopped the service
