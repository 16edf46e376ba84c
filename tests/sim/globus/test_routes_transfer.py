"""Transfer routes through the real globus-sdk TransferClient."""

from __future__ import annotations

import globus_sdk
import pytest
from globus_sdk.testing import get_response_set

from tests.sim.globus.conftest import World, submit


def canned(method: str) -> dict:
    return dict(get_response_set(getattr(globus_sdk.TransferClient, method))
                .lookup("default").json)


# globus_sdk.testing has no get_task or task_event_list payloads: a task document is the
# task_list entry (plus DATA_TYPE), and an event has the fields docs.globus.org lists.
TASK_KEYS = set(canned("task_list")["DATA"][0]) | {"DATA_TYPE"}
EVENT_KEYS = {"DATA_TYPE", "code", "description", "details", "is_error", "time"}


def test_key_sets_match_the_sdk_payloads(world: World) -> None:
    (world.src_dir / "a.txt").write_text("a")
    result = world.tc.submit_transfer(_data(world, ("/a.txt", "/a.txt")))
    assert set(result.data) == set(canned("submit_transfer"))
    assert set(world.tc.get_submission_id().data) == set(canned("get_submission_id"))
    task_id = result["task_id"]
    world.emu.wait_task(task_id, "SUCCEEDED")
    assert set(world.tc.get_task(task_id).data) == TASK_KEYS
    listing = world.tc.task_list(filter={"task_id": [task_id]})
    assert set(listing.data) == set(canned("task_list"))
    assert set(listing["DATA"][0]) == TASK_KEYS
    events = world.tc.task_event_list(task_id)
    assert events["DATA"] and all(set(e) == EVENT_KEYS for e in events["DATA"])
    # The canned endpoint is a GCSv4 host of 2021; a document also carries the keys
    # globus-cli reads (owner_string, high_assurance, gcs_manager_url, ...).
    assert set(canned("get_endpoint")) <= set(world.tc.get_endpoint(world.dst).data)
    assert set(world.tc.cancel_task(task_id).data) == set(canned("cancel_task"))
    stat = world.tc.operation_stat(world.dst, "/a.txt")
    assert set(stat.data) == set(canned("operation_stat"))


def _data(world: World, *items: tuple[str, str], **options: object) -> globus_sdk.TransferData:
    data = globus_sdk.TransferData(world.src, world.dst, **options)  # type: ignore[arg-type]
    for src, dst in items:
        data.add_item(src, dst)
    return data


def test_a_transfer_copies_a_tree(world: World) -> None:
    (world.src_dir / "run/out").mkdir(parents=True)
    (world.src_dir / "run/out/result.dat").write_bytes(b"r" * 5000)
    (world.src_dir / "run/log.txt").write_text("done\n")
    data = globus_sdk.TransferData(world.src, world.dst, label="stage out")
    data.add_item("/run", "/~/archive/run", recursive=True)
    task_id = world.tc.submit_transfer(data)["task_id"]
    doc = world.emu.wait_task(task_id, "SUCCEEDED")
    assert (world.dst_dir / "archive/run/out/result.dat").read_bytes() == b"r" * 5000
    assert (world.dst_dir / "archive/run/log.txt").read_text() == "done\n"
    assert (doc["files"], doc["files_transferred"], doc["bytes_transferred"]) == (2, 2, 5005)
    assert doc["label"] == "stage out" and doc["completion_time"]
    names = {entry["name"] for entry in world.tc.operation_ls(world.dst, path="/archive/run")}
    assert names == {"out", "log.txt"}


def test_resubmitting_a_submission_id_gives_the_same_task(world: World) -> None:
    (world.src_dir / "a.txt").write_text("a")
    submission_id = world.tc.get_submission_id()["value"]
    first = world.tc.submit_transfer(_data(world, ("/a.txt", "/a.txt"),
                                           submission_id=submission_id))
    again = world.tc.submit_transfer(_data(world, ("/a.txt", "/other.txt"),
                                           submission_id=submission_id))
    assert (first.http_status, first["code"]) == (202, "Accepted")
    assert (again.http_status, again["code"]) == (200, "Duplicate")
    assert again["task_id"] == first["task_id"]
    assert len(world.emu.tasks()) == 1
    world.emu.wait_task(first["task_id"], "SUCCEEDED")
    assert not (world.dst_dir / "other.txt").exists()


def test_task_list_by_many_ids_pages_like_the_sdk_expects(world: World) -> None:
    (world.src_dir / "a.txt").write_text("a")
    ids = [submit(world, [("/a.txt", f"/copy{i}.txt")]) for i in range(25)]
    submit(world, [("/a.txt", "/not-asked-for.txt")])
    page = world.tc.task_list(filter={"task_id": ids}, limit=10)
    assert (len(page["DATA"]), page["total"], page["limit"]) == (10, 25, 10)
    last = world.tc.task_list(filter={"task_id": ids}, limit=10, offset=20)
    assert (len(last["DATA"]), last["offset"]) == (5, 20)
    paged = world.tc.paginated.task_list(filter={"task_id": ids})
    assert sorted(task["task_id"] for task in paged.items()) == sorted(ids)
    assert world.emu.counters()["GET /v0.10/task_list"] == 3  # the SDK pages by 1000
    for task_id in ids:
        world.emu.wait_task(task_id, "SUCCEEDED")
    done = world.tc.task_list(filter={"task_id": ids[:3], "status": "SUCCEEDED"})
    assert {t["task_id"] for t in done} == set(ids[:3])
    assert not list(world.tc.task_list(filter={"task_id": ids, "status": "ACTIVE,INACTIVE"}))


def test_other_users_tasks_are_invisible(world: World) -> None:
    (world.src_dir / "a.txt").write_text("a")
    task_id = submit(world, [("/a.txt", "/a.txt")])
    from tests.sim.globus.conftest import transfer_client

    bob = transfer_client(world.emu, world.emu.issue_tokens("bob"))
    assert not list(bob.task_list())
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        bob.get_task(task_id)
    assert err.value.http_status == 403


def test_a_bad_token_is_a_globus_401(world: World) -> None:
    tc = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer("nope"),
                                   base_url=world.emu.transfer_url)
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        tc.task_list()
    assert (err.value.http_status, err.value.code) == (401, "AuthenticationFailed")


def test_errors_carry_globus_codes(world: World) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        world.tc.submit_transfer(globus_sdk.TransferData(world.src, world.dst))
    assert (err.value.http_status, err.value.code) == (400,
                                                        "ClientError.BadRequest.NoTransferItems")
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        world.tc.get_endpoint("00000000-0000-0000-0000-000000000000")
    assert err.value.code == "EndpointNotFound"
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        world.tc.operation_ls(world.src, path="/missing")
    assert err.value.http_status == 404


def test_events_cancel_and_filter(world: World) -> None:
    world.emu.set_bandwidth(10)
    (world.src_dir / "big").write_bytes(b"b" * 10_000)
    task_id = submit(world, [("/big", "/big")])
    world.emu.wait_task(task_id, "ACTIVE")
    assert world.tc.cancel_task(task_id)["code"] == "Canceled"
    doc = world.tc.get_task(task_id)
    assert (doc["status"], doc["fatal_error"]["code"]) == ("FAILED", "CANCELED")
    codes = [e["code"] for e in world.tc.task_event_list(task_id)]
    assert codes[0] == "CANCELED"  # newest first
    errors = world.tc.task_event_list(task_id, query_params={"filter": "is_error:1"})
    assert not errors["DATA"]
