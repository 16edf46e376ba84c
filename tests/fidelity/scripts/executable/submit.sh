#!/bin/bash
# Executable jobs: the program is the job, no script.
NAP=$(qsub -N nap -- /bin/sleep 1)
qsub -N listing -j oe -o listing.out -W depend=afterok:$NAP -- /bin/ls -a
