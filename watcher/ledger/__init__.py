"""The exactly-once action ledger: an outbox of intents, claimed under leases, run, recorded.

`outbox` is the API (enqueue, claim, record), `runner` executes intents with the actions.
"""
