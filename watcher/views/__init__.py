"""What the faces show: plain rows read from the store and the rule files, shared by the CLI's
`--json` and the HTTP API, so both say the same thing with the same field names."""
