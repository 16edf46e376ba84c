"""-l requests become a Resource_List and chunks the way the PBS server converts them."""

from __future__ import annotations

import pytest

from watcher.sim.pbs.resources import (
    Chunk,
    ResourceError,
    exec_strings,
    parse_request,
    parse_select,
    resource_list,
)


def test_no_request_gets_one_chunk_packed() -> None:
    listed, chunks = resource_list({})
    assert listed == {"ncpus": "1", "nodect": "1", "place": "pack", "select": "1:ncpus=1"}
    assert chunks == [Chunk(1, 1)]


def test_nodes_ppn_becomes_a_scattered_select_like_the_firecrest_sample() -> None:
    listed, _ = resource_list(parse_request("nodes=1:ppn=1,walltime=00:05:00"))
    assert listed == {"ncpus": "1", "nodect": "1", "nodes": "1:ppn=1", "place": "scatter",
                      "select": "1:ncpus=1", "walltime": "00:05:00"}


def test_select_chunks_sum_consumables_like_the_metacentrum_sample() -> None:
    listed, chunks = resource_list(parse_request(
        "select=2:ncpus=2:mem=4gb:mpiprocs=2:ompthreads=1,walltime=60"))
    assert listed["mem"] == "8gb" and listed["mpiprocs"] == "4"
    assert listed["ncpus"] == "4" and listed["nodect"] == "2"
    assert listed["walltime"] == "00:01:00" and listed["place"] == "free"
    assert list(listed) == sorted(listed)
    assert chunks == [Chunk(2, 2, {"mem": "4gb", "mpiprocs": "2", "ompthreads": "1"})]


def test_ncpus_alone_is_one_chunk() -> None:
    assert resource_list({"ncpus": "4"})[0]["select"] == "1:ncpus=4"


@pytest.mark.parametrize("text", ["walltime=abc", "select=x:ncpus=1", "ncpus=two", "=1",
                                  "walltime", "select=1:ncpus"])
def test_malformed_requests_are_refused(text: str) -> None:
    with pytest.raises(ResourceError):
        parse_request(text)


def test_select_with_several_chunk_kinds() -> None:
    assert parse_select("1:ncpus=8+2") == [Chunk(1, 8), Chunk(2, 1)]


def test_exec_strings_match_pbs_notation() -> None:
    host, vnode = exec_strings([("node01", 0, 2, {"mem": "4gb"}), ("node02", 0, 1, {})])
    assert host == "node01/0*2+node02/0"
    assert vnode == "(node01:ncpus=2:mem=4gb)+(node02:ncpus=1)"
