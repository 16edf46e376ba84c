#!/bin/bash
# Stage in with globus-cli inside a job, compute, stage the result out; -V carries the
# Globus settings of the login shell into the jobs.
set -e
STAGE=$(qsub -V stage_in.pbs)
qsub -V -W depend=afterok:$STAGE stage_out.pbs
