"""Texts the real commands print (OpenPBS src/cmds/*.c), kept in one place to compare easily."""

from __future__ import annotations

PBS_VERSION = "23.06.06"

QSUB_USAGE = (
    "usage: qsub [-a date_time] [-A account_string] [-c interval]\n"
    "\t[-C directive_prefix] [-e path] [-f ] [-h ] [-I [-X]] [-j oe|eo] [-J X-Y[:Z]]\n"
    "\t[-k keep] [-l resource_list] [-m mail_options] [-M user_list]\n"
    "\t[-N jobname] [-o path] [-p priority] [-P project] [-q queue] [-r y|n]\n"
    "\t[-R o|e|oe] [-S path] [-u user_list] [-W otherattributes=value...]\n"
    "\t[-v variable_list] [-V ] [-z] [script | -- command [arg1 ...]]\n"
    "       qsub --version\n"
)
QSTAT_USAGE = (
    "usage: \n"
    "qstat [-f] [-J] [-p] [-t] [-x] [-E] [-F format | -w] [-D delim] "
    "[ job_identifier... | destination... ]\n"
    "qstat [-a|-i|-r|-H|-T] [-J] [-t] [-u user] [-n] [-s] [-G|-M] [-1] [-w]\n"
    "\t[ job_identifier... | destination... ]\n"
    "qstat -Q [-f] [-F format] [-D delim] [ destination... ]\n"
    "qstat -q [-G|-M] [ destination... ]\n"
    "qstat -B [-f] [-F format] [-D delim] [ server_name... ]\n"
    "qstat --version\n"
)
QSIG_USAGE = "usage: qsig [-s signal] job_identifier...\n       qsig --version\n"
QRERUN_USAGE = "usage: qrerun [-W force] job_identifier...\n       qrerun --version\n"
QDEL_USAGE = ("usage:\n\tqdel [-W force|suppress_email=X] [-x] job_identifier...\n"
              "\tqdel --version\n")
QHOLD_USAGE = "usage: qhold [-h hold_list] job_identifier...\n       qhold --version\n"
QRLS_USAGE = "usage: qrls [-h hold_list] job_identifier...\n       qrls --version\n"
QSELECT_USAGE = (
    "usage: qselect [-a [op]date_time] [-A account_string] [-c [op]interval]\n"
    "\t[-h hold_list] [-H] [-J] [-l resource_list] [-N name] [-p [op]priority]\n"
    "\t[-q destination] [-r y|n] [-s states] [-t subopt[op]date_time] [-T] [-P project_name]\n"
    "\t[-x] [-u user_name]\n"
    "       qselect --version\n"
)

# pbs_error.h numbers and their texts; commands exit with the number modulo 256.
PBSE_UNKJOBID = 15001
PBSE_IVALREQ = 15004
PBSE_PERM = 15007
PBSE_UNKSIG = 15013
PBSE_BADATVAL = 15014
PBSE_UNKQUE = 15018
PBSE_BADSTATE = 15021
PBSE_NORERUN = 15038
PBSE_BADNODESPEC = 15089
PBSE_MAXARRAYSIZE = 15107
PBSE_HISTJOBID = 15139
PBSE_NOHISTARRAYSUBJOB = 15159
PBSE_WRONG_RESUME = 15177
ERROR_TEXT = {
    PBSE_BADNODESPEC: "node(s) specification error",
    PBSE_UNKJOBID: "Unknown Job Id",
    PBSE_PERM: "Unauthorized Request ",
    PBSE_UNKQUE: "Unknown queue",
    PBSE_BADSTATE: "Request invalid for state of job",
    PBSE_HISTJOBID: "Job has finished",
    PBSE_IVALREQ: "Invalid request",
    PBSE_UNKSIG: "Unknown/illegal signal name",
    PBSE_BADATVAL: "Illegal attribute or resource value",
    PBSE_NORERUN: "job is not rerunnable",
    PBSE_MAXARRAYSIZE: "Array job exceeds server or queue size limit",
    PBSE_NOHISTARRAYSUBJOB: "Request invalid for finished array subjob",
    PBSE_WRONG_RESUME: "Job can not be resumed with the requested resume signal",
}
NO_RERUN_ARRAY = "qsub:  cannot submit non-rerunable Array Job\n"  # sic: two spaces
MULTIPLE_MAX_RUN = "qsub: multiple max_run_subjobs values found\n"

# Connection failure, as PBS 18.x prints it: the library's perror, then the command's line.
ECONNREFUSED = 111
CONNECTION_REFUSED = "Connection refused"

# Dependency texts (pbs_messages.c msg_registerdel, msg_histdepend, msg_regrej).
DEPEND_DELETED = "Job deleted as result of dependency on job {parent}"
DEPEND_HIST_REJECTED = "{parent} Finished job did not satisfy dependency"
DEPEND_UNKNOWN = "Dependency request for job rejected by {parent} Unknown Job Id"


def exit_code(pbs_errno: int) -> int:
    """What the shell sees: exit() keeps the low 8 bits (15001 -> 153, 15139 -> 35)."""
    return pbs_errno % 256


def unsupported(command: str, what: str) -> str:
    """For real PBS features the simulator leaves out: said plainly, never silently ignored."""
    return f"{command}: {what} is not supported by the PBS simulator\n"
