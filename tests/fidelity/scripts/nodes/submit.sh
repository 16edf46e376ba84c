#!/bin/bash
# The old -l nodes= forms older scripts still use, on a cluster with named nodes.
qsub -l nodes=pbs-cc2 -N byname where.pbs
qsub -l nodes=1:bigmem -N bigmem where.pbs
qsub -l nodes=2:ppn=2 -N mpi where.pbs
qsub -l select=1:ncpus=1:host=pbs-cc9 -N nowhere where.pbs
