"""qsub -v lists: quotes, escaped commas, values taken from the environment."""

from __future__ import annotations

import pytest

from watcher.sim.pbs.qsub_opts import QsubError
from watcher.sim.pbs.qsub_vars import variables


def test_variables_quotes_escapes_and_environment() -> None:
    assert variables("a=1,b='x,y',c=\"q\",HOME,PBS_O_HOME=/x,d=e\\,f",
                     {"HOME": "/home/u"}) == [
        ("a", "1"), ("b", "x,y"), ("c", "q"), ("HOME", "/home/u"), ("d", "e,f")]
    with pytest.raises(QsubError, match="cannot send environment"):
        variables("NOT_SET_ANYWHERE", {})
