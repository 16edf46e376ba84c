"""Job ids as people write them, compared the way PBS means them."""

from __future__ import annotations

from collections.abc import Iterable


class IdSet:
    """Job ids as people write them: `123`, `123.srv` and `123.srv.example.org` are one job.

    qstat prints the full id; a rule or a workflow may hold a shorter form, or a longer one.
    """

    def __init__(self, ids: Iterable[str]) -> None:
        self._by_number: dict[str, list[str]] = {}
        for job_id in ids:
            self._by_number.setdefault(job_id.partition(".")[0], []).append(job_id)

    def __contains__(self, job_id: object) -> bool:
        if not isinstance(job_id, str):
            return False
        for known in self._by_number.get(job_id.partition(".")[0], ()):
            if known == job_id or job_id.startswith(known + ".") or known.startswith(job_id + "."):
                return True
        return False
