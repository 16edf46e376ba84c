"""A PBS Professional / OpenPBS simulator: a server process, per-job runners (MoMs) and shims.

Layout of a simulator home (`watcher.paths.sim_home("pbs")` unless given):

    DIR/bin/{qsub,qstat,qdel,qrls,qhold,qselect}   command shims (never put on PATH by us)
    DIR/server_priv/sim.db                         the datastore (SQLite, WAL)
    DIR/server_priv/accounting/YYYYMMDD            PBS accounting log
    DIR/server_priv/server.{pid,lock}, server_logs/  the server process
    DIR/mom_priv/...                               runner state, spooled output, job scripts

This package must stay import-light: every shim call imports some of its modules, so nothing
here may import a third-party library (no pydantic, click, sqlmodel).
"""
