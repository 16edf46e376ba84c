"""A rule naming another user's job by id: the service watches it (qstat by id) and fires."""

from __future__ import annotations

from collections.abc import Callable

from tests.service.conftest import cycle_until
from watcher.service.service import Service
from watcher.sim.pbs.context import current_user
from watcher.sim.pbs.testing import PbsSim


def test_a_rule_on_someone_elses_job_fires(sim: PbsSim,
                                           make_service: Callable[..., Service]) -> None:
    template = sim.qsub("exit 0\n", "-h")
    bobs, = sim.copy_jobs(template, ["bob"], name="bobs-stage-in")
    service = make_service(f"""
rules:
  - name: after-bob
    when: {{pbs_job: {{id: "{bobs}", state: F}}}}
    do: [{{qrls: {{job: "{template}"}}}}]
""")
    cycle_until(service, lambda: bobs in service.path.subjects("pbs"))
    sim.configure(managers=[current_user()])  # an operator ends bob's job
    sim.run("qdel", bobs)
    cycle_until(service, lambda: sim.qstat_json(template)["Jobs"][template]["job_state"] != "H")
