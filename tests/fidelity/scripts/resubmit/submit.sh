#!/bin/bash
# A long run split into steps: each step queues the next one before it ends.
qsub -v STEP=1,LAST=3 step.pbs
