"""qsub -v: the variable list as real qsub and the PBS server read it (`watcher.pbs.qsub_v`).

`-v a=1,b='x,y',HOME` gives a=1, b=x,y and HOME from qsub's own environment; names starting
with PBS_O_ are dropped (qsub sets those itself). Backslashes double, as in real qsub (its
`copy_env_value()` runs twice over each value): `-v 'W=C:\\dir'` gives the job `C:\\\\dir`.
"""

from __future__ import annotations

from watcher.pbs.qsub_v import QsubVError, received
from watcher.sim.pbs.qsub_opts import QsubError


def variables(text: str, environ: dict[str, str]) -> list[tuple[str, str]]:
    """-v `a=1,b='x,y',HOME` -> pairs; a bare name takes its value from qsub's environment."""
    try:
        return received(text, environ)
    except QsubVError:
        raise QsubError("qsub: cannot send environment with the job\n", 1) from None
