#!/bin/bash
# A synchronous pipeline: each qsub waits for its job and the shell checks its exit status.
if qsub -W block=true prepare.pbs > prepare.id; then
    echo "prepare ok" >> pipeline.log
fi
qsub -W block=true -v FAIL=1 prepare.pbs > broken.id
rc=$?
[ $rc -eq 0 ] || echo "broken failed with $rc" >> pipeline.log
