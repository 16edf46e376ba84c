#!/bin/bash
# A job that qsubs a relative path without cd: fine in the submission directory, wrong on a
# cluster, where jobs start in $HOME.
qsub first.pbs
