"""Where the staging rules are: `staging.yaml` next to this module, shipped in the package.

The service loads it besides the user's rules, so workflows work without copying anything.
`rules/staging.yaml` in the repository is a copy for reading (a test keeps the two equal).
"""

from __future__ import annotations

from pathlib import Path

STAGING_RULES = Path(__file__).with_name("staging.yaml")
