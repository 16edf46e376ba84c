"""Job arrays as the watcher sees them: one subject per array (its `N[]` id), never its
subjobs, through either PBS source; a rule on `state: F` fires once, when the array ends."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlmodel import select

from tests.service.conftest import cycle_until
from watcher.config import Settings
from watcher.service.service import Service
from watcher.sim.pbs.testing import PbsSim
from watcher.store.models import Firing


@pytest.mark.parametrize("discovery", ["select", "listing"])
def test_a_rule_on_an_array_fires_once_for_the_parent(
        sim: PbsSim, settings: Settings, make_service: Callable[..., Service],
        discovery: str) -> None:
    settings.pbs.discovery = discovery  # type: ignore[assignment]
    waiting = sim.qsub("exit 0\n", "-h", "-N", "after-sweep")
    service = make_service(f"""
rules:
  - name: sweep-done
    when: {{pbs_job: {{name: sweep, state: F}}}}
    do: [{{qrls: {{job: "{waiting}"}}}}]
""")
    array_id = sim.qsub('sleep 0.5\n[ "$PBS_ARRAY_INDEX" = 2 ] && exit 1\nexit 0\n',
                        "-J", "1-3", "-N", "sweep")
    seen: set[str] = set()

    def released() -> bool:
        seen.update(service.path.subjects("pbs"))
        return sim.qstat_json(waiting)["Jobs"][waiting]["job_state"] != "H"

    cycle_until(service, released, timeout=30)
    cycle_until(service, lambda: True)  # one more cycle: nothing fires twice
    assert array_id in seen
    assert not [job_id for job_id in seen if re.search(r"\[\d", job_id)]  # no subjob
    with service.store.session(write=False) as session:
        fired = list(session.exec(select(Firing).where(Firing.rule == "sweep-done")))
    assert [f.subject for f in fired] == [array_id]
