"""A running job's files and environment, set up the way a MoM does it.

Output is spooled under DIR/spool while the job runs and delivered to Output_Path/Error_Path
when it ends (`<name>.o<seq>`), so the files appear when the job finishes, as on a cluster.

The environment follows OpenPBS src/resmom/start_exec.c: first the MoM's own environment (the
`pbs_environment` file: PATH=/bin:/usr/bin as pbs_postinstall writes it), then the job's
Variable_List (PBS_O_* and whatever -v/-V passed), then the variables the MoM computes (HOME,
LOGNAME, USER, SHELL, PBS_JOBID, PBS_NODEFILE, TMPDIR, ...), which replace any passed in.
So PATH is the submitter's only with -V or -v PATH. The job starts in the user's home
directory, never the submission directory (that is only $PBS_O_WORKDIR).
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path
from typing import Any

from watcher.sim.pbs.model import Job
from watcher.sim.pbs.paths import SimPaths

MOM_PATH = "/bin:/usr/bin"  # pbs_postinstall's pbs_environment PATH
INDEX_TAG = "^array_index^"  # PBS_FILE_ARRAY_INDEX_TAG


def user_home(settings: dict[str, Any]) -> str:
    """The job owner's home: the password entry's, or the simulator's `user_home` setting
    (a test cannot change the real user's home, and must not write into it)."""
    configured = settings.get("user_home")
    if configured:
        return str(configured)
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return os.path.expanduser("~")


def write_pbs_environment(paths: SimPaths, variables: dict[str, str] | None = None) -> None:
    """Write PBS_HOME/pbs_environment. The default puts the simulator's commands first on
    PATH, where a cluster's /etc/profile.d puts /opt/pbs/bin (jobs that qsub need them)."""
    if variables is None:
        if paths.pbs_environment.exists():
            return
        variables = {"PATH": f"{paths.bin_dir}:{MOM_PATH}"}
    text = "".join(f"{k}={v}\n" for k, v in variables.items())
    tmp = paths.pbs_environment.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(paths.pbs_environment)


def read_pbs_environment(paths: SimPaths) -> dict[str, str]:
    """setup_env(): `NAME=value` lines; a bare `NAME` takes the MoM's own value."""
    try:
        lines = paths.pbs_environment.read_text().splitlines()
    except FileNotFoundError:
        return {"PATH": MOM_PATH}
    env: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if sep:
            env[name] = value
        elif name in os.environ:
            env[name] = os.environ[name]
    return env


class JobFiles:
    """Paths of one job's script, spool files, node file and TMPDIR."""

    def __init__(self, paths: SimPaths, job: Job, home: str) -> None:
        self.job = job
        self.script = paths.jobs_dir / f"{job.seq}.SC"
        self.stdout = paths.spool / f"{job.jobid}.OU"
        self.stderr = paths.spool / f"{job.jobid}.ER"
        self.nodefile = paths.aux / job.jobid
        self.tmpdir = paths.tmp / f"pbs.{job.jobid}"
        self.undelivered = paths.spool / "undelivered"
        self.home = home

    def prepare(self) -> None:
        """Write the script and node file and create TMPDIR before the job starts."""
        self.script.write_text(self.job.script)
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.nodefile.write_text("".join(f"{h}\n" for h in nodefile_hosts(self.job)))

    def cleanup(self) -> None:
        """Remove TMPDIR and the MoM's copies once the output is staged out."""
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        for path in (self.script, self.nodefile, self.stdout, self.stderr):
            path.unlink(missing_ok=True)


def nodefile_hosts(job: Job) -> list[str]:
    """PBS_NODEFILE: each chunk's host once per MPI process (mpiprocs, default 1)."""
    hosts: list[str] = []
    for entry in job.nodes or []:
        host = str(entry[3]) if len(entry) > 3 else str(entry[0])
        hosts += [host] * (int(entry[4]) if len(entry) > 4 else 1)
    return hosts


def job_environment(job: Job, files: JobFiles, mom_env: dict[str, str]) -> dict[str, str]:
    """The MoM's environment, then Variable_List, then what the MoM computes."""
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        user = str(os.getuid())
    ncpus = str((job.nodes or [["", 0, 1]])[0][2])
    env = dict(mom_env)
    env.update(dict(job.attrs["Variable_List"]))
    env.update({
        "HOME": files.home, "LOGNAME": user, "PBS_JOBNAME": job.attrs["Job_Name"],
        "PBS_JOBID": job.jobid, "PBS_QUEUE": job.attrs["queue"],
        "SHELL": job.attrs.get("Shell_Path_List", "/bin/bash"), "USER": user,
        "PBS_NODENUM": "0", "PBS_TASKNUM": "1", "PBS_MOMPORT": "15003",
        "OMP_NUM_THREADS": ncpus, "NCPUS": ncpus, "PBS_NODEFILE": str(files.nodefile),
    })
    if "Account_Name" in job.attrs:
        env["PBS_ACCOUNT"] = job.attrs["Account_Name"]
    if job.kind == "subjob":  # start_exec.c: the subjob's index and its array's id
        env["PBS_ARRAY_INDEX"] = str(job.idx)
        env["PBS_ARRAY_ID"] = job.attrs["array_id"]
    env.update({"TMPDIR": str(files.tmpdir), "PBS_JOBDIR": files.home,
                "PBS_ENVIRONMENT": "PBS_BATCH", "ENVIRONMENT": "BATCH"})
    return env


def _destination(path_attr: str, suffix: str, job: Job) -> Path:
    """`host:/path` -> /path; a directory receives `<name>.<o|e><seq>`. A subjob's path has
    its index for `^array_index^` (subst_array_index()): `<name>.o<seq>.<index>`."""
    text = path_attr.split(":", 1)[1] if ":" in path_attr else path_attr
    if job.kind == "subjob":
        text = text.replace(INDEX_TAG, str(job.idx))
    path = Path(text)
    if path.is_dir():
        tail = f"{job.number}.{job.idx}" if job.kind == "subjob" else str(job.seq)
        path = path / f"{job.attrs['Job_Name']}.{suffix}{tail}"
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
