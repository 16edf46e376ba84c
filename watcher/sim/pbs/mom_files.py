"""A running job's files and environment, set up the way a MoM does it.

Output is spooled under DIR/spool while the job runs and delivered to Output_Path/Error_Path
when it ends (`<name>.o<seq>`), so the files appear when the job finishes, as on a cluster.
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from watcher.sim.pbs.model import Job
from watcher.sim.pbs.paths import SimPaths

_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


class JobFiles:
    """Paths of one job's script, spool files, node file and TMPDIR."""

    def __init__(self, paths: SimPaths, job: Job) -> None:
        self.job = job
        self.script = paths.jobs_dir / f"{job.seq}.SC"
        self.stdout = paths.spool / f"{job.jobid}.OU"
        self.stderr = paths.spool / f"{job.jobid}.ER"
        self.nodefile = paths.aux / job.jobid
        self.tmpdir = paths.tmp / f"pbs.{job.jobid}"
        self.undelivered = paths.spool / "undelivered"
        variables = dict(job.attrs["Variable_List"])
        self.workdir = variables.get("PBS_O_WORKDIR", os.path.expanduser("~"))
        if not os.path.isdir(self.workdir):
            self.workdir = os.path.expanduser("~")

    def prepare(self) -> None:
        self.script.write_text(self.job.script)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        hosts = [name for name, _index, _ncpus in self.job.nodes or []]
        self.nodefile.write_text("".join(f"{h}\n" for h in hosts))

    def cleanup(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        for path in (self.script, self.nodefile, self.stdout, self.stderr):
            path.unlink(missing_ok=True)


def job_environment(job: Job, files: JobFiles) -> dict[str, str]:
    """Login basics, then Variable_List (PBS_O_* and -v/-V), then what the MoM adds."""
    try:
        entry = pwd.getpwuid(os.getuid())
        home, user = entry.pw_dir, entry.pw_name
    except KeyError:
        home, user = os.path.expanduser("~"), str(os.getuid())
    variables = dict(job.attrs["Variable_List"])
    ncpus = str((job.nodes or [["", 0, 1]])[0][2])
    env = {"HOME": home, "LOGNAME": user, "USER": user,
           "SHELL": job.attrs.get("Shell_Path_List", "/bin/bash"),
           "PATH": variables.get("PBS_O_PATH", _DEFAULT_PATH)}
    env.update(variables)
    env.update({
        "PBS_JOBID": job.jobid, "PBS_JOBNAME": job.attrs["Job_Name"],
        "PBS_QUEUE": job.attrs["queue"], "PBS_ENVIRONMENT": "PBS_BATCH",
        "PBS_NODEFILE": str(files.nodefile), "PBS_JOBDIR": home, "PBS_TASKNUM": "1",
        "PBS_NODENUM": "0", "PBS_MOMPORT": "15003", "TMPDIR": str(files.tmpdir),
        "NCPUS": ncpus, "OMP_NUM_THREADS": ncpus, "ENVIRONMENT": "BATCH",
    })
    return env


def _destination(path_attr: str, suffix: str, job: Job) -> Path:
    """`host:/path` -> /path; a directory receives `<name>.<o|e><seq>`."""
    path = Path(path_attr.split(":", 1)[1] if ":" in path_attr else path_attr)
    if path.is_dir():
        path = path / f"{job.attrs['Job_Name']}.{suffix}{job.seq}"
    return path


def deliver(files: JobFiles, job: Job) -> None:
    """Copy spooled output to its destinations; what cannot be delivered stays in the spool."""
    join = job.attrs["Join_Path"]
    pairs = []
    if join != "eo":
        pairs.append((files.stdout, _destination(job.attrs["Output_Path"], "o", job)))
    if join != "oe":
        pairs.append((files.stderr, _destination(job.attrs["Error_Path"], "e", job)))
    for spooled, target in pairs:
        try:
            shutil.copyfile(spooled, target)
        except OSError:
            files.undelivered.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spooled, files.undelivered / spooled.name)
