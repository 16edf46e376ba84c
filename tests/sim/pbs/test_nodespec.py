"""`-l nodes=` specs become select/place as OpenPBS src/server/node_manager.c
cvt_nodespec_to_select() and svr_jobfunc.c set_select_and_place() convert them."""

from __future__ import annotations

import pytest

from watcher.sim.pbs.nodespec import NodeSpecError, place_for, to_select
from watcher.sim.pbs.resources import parse_request, resource_list

NAMES = ("pbs-cc1", "pbs-cc2", "node01")


@pytest.mark.parametrize(("spec", "select"), [
    ("2", "2:ncpus=1"),
    ("1:ppn=1", "1:ncpus=1"),
    ("2:ppn=4", "2:ncpus=4:mpiprocs=4"),
    ("1:ppn=2:cpp=3", "1:ncpus=6:mpiprocs=2"),
    ("pbs-cc1", "1:ncpus=1:host=pbs-cc1"),
    ("PBS-CC1", "1:ncpus=1:host=PBS-CC1"),
    ("1:pbs-cc1", "1:ncpus=1:host=pbs-cc1"),
    ("pbs-cc1:ppn=2", "1:ncpus=2:host=pbs-cc1:mpiprocs=2"),
    ("pbs-cc1+pbs-cc2", "1:ncpus=1:host=pbs-cc1+1:ncpus=1:host=pbs-cc2"),
    ("2:bigmem", "2:ncpus=1:bigmem=True"),
    ("1:bigmem:fast", "1:ncpus=1:fast=True:bigmem=True"),  # the server prepends: reversed
    ("2:ppn=2#excl", "2:ncpus=2:mpiprocs=2"),
    ("1+2#bigmem", "1:ncpus=1:bigmem=True+2:ncpus=1:bigmem=True"),
    ("node01/0", "1:ncpus=1:host=node01"),
    ("2x", "1:ncpus=1:2x=True"),  # a digit before a letter is a name, not a count
])
def test_conversion(spec: str, select: str) -> None:
    assert to_select(spec, NAMES) == select


def test_placement_is_scatter_and_excl_or_shared_from_the_spec() -> None:
    assert place_for("2") == "scatter"
    assert place_for("2:ppn=2#excl") == "scatter:excl"
    assert place_for("2#shared") == "scatter:share"


@pytest.mark.parametrize("spec", ["0", "2:foo=1", "1:ppn=0", ":bigmem", "1:", "+", "a b"])
def test_specs_pbs_refuses(spec: str) -> None:
    with pytest.raises(NodeSpecError):
        to_select(spec, NAMES)


def test_nodes_wins_over_place_and_sums_mpiprocs() -> None:
    listed, chunks = resource_list(parse_request("nodes=2:ppn=4,place=pack"), NAMES)
    assert listed["place"] == "scatter" and listed["select"] == "2:ncpus=4:mpiprocs=4"
    assert (listed["ncpus"], listed["mpiprocs"], listed["nodect"]) == ("8", "8", "2")
    assert chunks[0].extra == {"mpiprocs": "4"}
