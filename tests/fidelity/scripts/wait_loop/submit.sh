#!/bin/bash
# Submit, then wait on the login node the way many wrappers do: qstat until it fails, then
# read the exit status from the job history. Short ids, as `cut -d. -f1` leaves them.
JOB=$(qsub -N short -l walltime=00:00:30 work.pbs | cut -d. -f1)
while qstat "$JOB" > /dev/null 2>&1; do
    sleep 0.2
done
STATUS=$(qstat -x -f "$JOB" | awk '/Exit_status/ {print $3}')
echo "$JOB exited $STATUS" > wait.log
qsub -N report -W depend=afterany:$JOB report.pbs > /dev/null
