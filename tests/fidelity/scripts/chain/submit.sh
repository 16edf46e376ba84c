#!/bin/bash
# A three-step pipeline chained with -W depend, as cluster user guides show it.
set -e
PRE=$(qsub preprocess.pbs)
RUN=$(qsub -W depend=afterok:$PRE compute.pbs)
qsub -W depend=afterany:$RUN cleanup.pbs
# a step that only runs if compute failed: deleted by PBS when it succeeds
qsub -W depend=afternotok:$RUN -N rescue cleanup.pbs > /dev/null
