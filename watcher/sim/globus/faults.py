"""Injected faults: the state the admin API switches on and off. Pure data plus small decisions.

Failing a task or revoking tokens acts once and needs no state here; what lasts is kept here:
paused endpoints, expired credentials, destination quotas and a flaky-response rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ANY_ENDPOINT = "*"
SERVICES = ("transfer", "auth", "all")


@dataclass
class Flaky:
    """Answer a share of requests with `status` (429/503...), optionally only `count` times.

    The share is applied deterministically (an error whenever the accumulated share reaches 1),
    so share=0.5 fails every other request and tests never depend on luck.
    """

    status: int = 503
    share: float = 1.0
    count: int | None = None
    retry_after: int | None = 0
    service: str = "transfer"
    credit: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ValueError("share must be in (0, 1]")
        if self.service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status")

    def hit(self, service: str) -> bool:
        """Should this request (to `service`) be answered with the error? Updates the budget."""
        if self.service != "all" and service != self.service:
            return False
        if self.count is not None and self.count <= 0:
            return False
        self.credit += self.share
        if self.credit < 1 - 1e-9:
            return False
        self.credit -= 1
        if self.count is not None:
            self.count -= 1
        return True

    @property
    def exhausted(self) -> bool:
        """Whether a `count`-limited flakiness has used up its errors."""
        return self.count is not None and self.count <= 0


@dataclass
class Faults:
    """Lasting faults. `expired` holds (identity id, endpoint id or "*") pairs."""

    paused: set[str] = field(default_factory=set)
    expired: set[tuple[str, str]] = field(default_factory=set)
    quotas: dict[str, int] = field(default_factory=dict)
    flaky: Flaky | None = None

    def credentials_expired(self, identity_id: str, endpoint_id: str) -> bool:
        """Whether a fault expired the identity's consent for this endpoint (or for all)."""
        return bool({(identity_id, endpoint_id), (identity_id, ANY_ENDPOINT)} & self.expired)

    def restore(self, identity_id: str, endpoint_id: str | None) -> None:
        """Lift the identity's expiry for one endpoint, or every one when None."""
        self.expired = {pair for pair in self.expired if pair[0] != identity_id
                        or endpoint_id not in (None, pair[1])}

    def flaky_hit(self, service: str) -> Flaky | None:
        """The rule to answer this request with, if it should fail; drops a spent rule."""
        rule = self.flaky
        if rule is None or not rule.hit(service):
            return None
        if rule.exhausted:
            self.flaky = None
        return rule

    def replace(self, other: Faults) -> None:
        """Take over another set of faults in place (other objects hold this one)."""
        self.paused, self.expired = set(other.paused), set(other.expired)
        self.quotas, self.flaky = dict(other.quotas), other.flaky

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for snapshots and `status`."""
        return {"paused": sorted(self.paused), "expired": sorted(map(list, self.expired)),
                "quotas": self.quotas, "flaky": asdict(self.flaky) if self.flaky else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        """The inverse of `to_dict`."""
        flaky = data.get("flaky")
        return cls(paused=set(data.get("paused", [])),
                   expired={(a, b) for a, b in data.get("expired", [])},
                   quotas={k: int(v) for k, v in data.get("quotas", {}).items()},
                   flaky=Flaky(**flaky) if flaky else None)
