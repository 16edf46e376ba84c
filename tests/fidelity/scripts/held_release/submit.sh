#!/bin/bash
# The analysis job is submitted on user hold; a setup job releases it when the data is ready.
ANALYSIS=$(qsub -h analysis.pbs)
qsub -v HELD_JOB=$ANALYSIS setup.pbs
