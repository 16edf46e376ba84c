"""`qsub`: check the options, read the script, queue the job, print `<seq>.<server>`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

from watcher.sim.pbs import (
    arrays,
    cluster,
    dependencies,
    messages,
    model,
    nodespec,
    qsub_block,
    store,
)
from watcher.sim.pbs.cmdline import getopt
from watcher.sim.pbs.context import Context
from watcher.sim.pbs.effects import Effects
from watcher.sim.pbs.executables import encode_arguments, encode_executable
from watcher.sim.pbs.model import Job
from watcher.sim.pbs.qsub_opts import OPTSTRING, QsubError, Request, directives
from watcher.sim.pbs.qsub_vars import variables
from watcher.sim.pbs.resources import resource_list
from watcher.sim.pbs.states import reevaluate

_READ_MSG = "Job script will be read from standard input. Submit with CTRL+D.\n"


def run(ctx: Context, argv: list[str], stdin: TextIO = sys.stdin) -> int:
    """`qsub`: prints the new job id; a refusal writes PBS's message and exits with its code."""
    try:
        return _submit(ctx, argv, stdin)
    except QsubError as exc:
        ctx.err.write(exc.message)
        if exc.usage:
            ctx.err.write(messages.QSUB_USAGE)
        return exc.code


def _submit(ctx: Context, argv: list[str], stdin: TextIO) -> int:
    options, program = _split_executable(argv)
    parsed = getopt(options, OPTSTRING)
    if parsed.errors or parsed.permuted or len(parsed.operands) > 1 or (
            program is not None and (parsed.operands or not program)):
        raise QsubError("", 2, usage=True)
    request = Request()
    errors = request.apply(parsed.options, primary=True)
    if errors:
        raise QsubError("".join(errors), 2, usage=True)
    if program is not None:  # the job is the program: no script, no directives
        script, name = "", "STDIN"
        request.executable = program
    else:
        script, name = _read_script(parsed.operands, stdin, ctx)
    prefix = request.single.get("C", os.environ.get("PBS_DPREFIX", "#PBS"))
    for args in directives(script, prefix):
        found = getopt(["qsub", *args], OPTSTRING)
        problems = request.apply(found.options, primary=False)
        if found.errors or found.operands or problems:
            raise QsubError("".join(problems) + f"qsub: directive error: {' '.join(args)} \n", 1)
    request.single.setdefault("N", name)
    array = _array_option(request)
    environ = dict(os.environ)
    user_vars = variables(request.single["v"], environ) if "v" in request.single else []
    if not ctx.connect():
        return messages.ECONNREFUSED
    if "nodes" in request.resources and not nodespec.valid(request.resources["nodes"]):
        ctx.err.write(f"qsub: {messages.ERROR_TEXT[messages.PBSE_BADNODESPEC]}\n")
        return messages.exit_code(messages.PBSE_BADNODESPEC)
    queue = _queue(ctx, request.single.get("q", ""))
    if queue is None:
        ctx.err.write(f"qsub: {messages.ERROR_TEXT[messages.PBSE_UNKQUE]}\n")
        return messages.exit_code(messages.PBSE_UNKQUE)
    indices = None
    if array is not None:
        try:
            indices = arrays.parse_submitted(array[0])
        except arrays.RangeError:
            ctx.err.write(f"qsub: {messages.ERROR_TEXT[messages.PBSE_BADATVAL]}\n")
            return messages.exit_code(messages.PBSE_BADATVAL)
        if len(indices.indices) > arrays.MAX_ARRAY_SIZE:
            ctx.err.write(f"qsub: {messages.ERROR_TEXT[messages.PBSE_MAXARRAYSIZE]}\n")
            return messages.exit_code(messages.PBSE_MAXARRAYSIZE)
    jobid, seq = _queue_job(ctx, request, script, queue, user_vars, environ, argv,
                            None if array is None or indices is None
                            else (indices, array[0], array[1]))
    if "z" not in request.flags:
        ctx.out.write(jobid + "\n")
    if request.wattrs.get("block", "false").lower() == "true":
        return qsub_block.wait(ctx, jobid, seq)
    return 0


def _array_option(request: Request) -> tuple[str, str | None] | None:
    """`-J X-Y[:Z][%N]` -> (range, max_run_subjobs); arrays must be rerunnable (qsub.c)."""
    value = request.single.get("J")
    if value is None:
        return None
    if request.single.get("r") == "n":
        raise QsubError(messages.NO_RERUN_ARRAY, 2, usage=True)
    text, percent, max_run = value.partition("%")
    if percent and not (max_run.isdigit() and int(max_run) > 0):
        raise QsubError("qsub: illegal -J value\n", 2, usage=True)
    return text, max_run if percent else None


def _split_executable(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """`qsub [options] -- program [args]` -> (argv before `--`, [program, args]); no `--`:
    (argv, None). The first `--` that is not an option's argument ends the options."""
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[:i], argv[i + 1:]
        if arg.startswith("-") and len(arg) == 2 and OPTSTRING.find(arg[1] + ":") >= 0:
            i += 1  # the option's value, even if it is `--`
        i += 1
    return argv, None


def _read_script(operands: list[str], stdin: TextIO, ctx: Context) -> tuple[str, str]:
    if not operands or operands[0] == "-":
        if stdin.isatty():
            ctx.out.write(_READ_MSG)
        return stdin.read(), "STDIN"
    path = Path(operands[0])
    try:
        return path.read_text(), path.name
    except FileNotFoundError:
        raise QsubError("qsub: script file:: No such file or directory\n", 1) from None
    except IsADirectoryError:
        raise QsubError("qsub: script not a file\n", 1) from None


def _queue(ctx: Context, destination: str) -> str | None:
    queue = destination.split("@")[0] or ctx.settings["default_queue"]
    return queue if queue in ctx.settings["queues"] else None


def _workdir() -> str:
    """$PWD when it really is the current directory (automounter friendly), as qsub does."""
    pwd = os.environ.get("PWD")
    try:
        if pwd and os.path.samefile(pwd, "."):
            return pwd
    except OSError:
        pass
    return os.getcwd()


def _path(ctx: Context, given: str | None, workdir: str, default: str) -> str:
    if not given:
        return f"{ctx.host}:{workdir}/{default}"
    host, sep, path = given.rpartition(":")
    if not sep:
        host, path = ctx.host, given
    return f"{host}:{os.path.join(workdir, os.path.expanduser(path))}"


def _variable_list(ctx: Context, queue: str, user_vars: list[tuple[str, str]],
                   environ: dict[str, str], workdir: str, full_env: bool) -> list[list[str]]:
    pairs = [["PBS_O_HOME", environ.get("HOME", "/")]]
    for var in ("LANG", "LOGNAME", "PATH", "MAIL", "SHELL", "TZ"):
        if var in environ:
            pairs.append([f"PBS_O_{var}", environ[var]])
    pairs += [["PBS_O_WORKDIR", workdir], ["PBS_O_SYSTEM", os.uname().sysname]]
    pairs += [[k, v] for k, v in user_vars]
    if full_env:
        pairs += [[k, v] for k, v in environ.items() if not k.startswith("PBS_O_")]
    return [*pairs, ["PBS_O_QUEUE", queue], ["PBS_O_HOST", ctx.host]]


def _attributes(ctx: Context, request: Request, queue: str, seq: int,
                variables: list[list[str]], argv: list[str]) -> dict[str, Any]:
    """The attributes the server records for a new job (defaults as qsub sets them)."""
    opts, now, workdir = request.single, int(ctx.now), _workdir()
    name = opts["N"]
    # An array's default output names end in the index tag (svr_jobfunc.c prefix_std_file)
    tail = f"{seq}.{arrays.INDEX_TAG}" if "J" in opts else str(seq)
    attrs: dict[str, Any] = {
        "Job_Name": name, "Job_Owner": f"{ctx.user}@{ctx.host}", "queue": queue,
        "server": ctx.settings["server_name"], "Checkpoint": opts.get("c", "u"), "ctime": now,
        "Error_Path": _path(ctx, opts.get("e"), workdir, f"{name}.e{tail}"),
        "Hold_Types": "n", "Join_Path": opts.get("j", "n"), "Keep_Files": opts.get("k", "n"),
        "Mail_Points": opts.get("m", "a"), "mtime": now,
        "Output_Path": _path(ctx, opts.get("o"), workdir, f"{name}.o{tail}"),
        "Priority": opts.get("p", "0"), "qtime": now,
        "Rerunable": "False" if opts.get("r") == "n" else "True",
        "Resource_List": resource_list(request.resources, _vnode_names(ctx))[0],
        "Variable_List": variables,
        "project": opts.get("P", "_pbs_project_default"), "Submit_Host": ctx.host,
    }
    optional: dict[str, str | None] = {
        "Account_Name": opts.get("A"), "Mail_Users": opts.get("M"),
        "Shell_Path_List": opts.get("S"), "umask": request.wattrs.get("umask"),
        "Submit_arguments": " ".join(argv[1:]) if len(argv) > 1 else None}
    if request.executable:
        optional["executable"] = encode_executable(request.executable[0])
        if request.executable[1:]:
            optional["argument_list"] = encode_arguments(request.executable[1:])
    attrs.update({k: v for k, v in optional.items() if v is not None})
    return attrs


def _vnode_names(ctx: Context) -> list[str]:
    """A `-l nodes=` property naming a vnode becomes `host=` (cvt_nodespec_to_select)."""
    return [v.name for v in cluster.from_settings(ctx.settings)]


def _queue_job(ctx: Context, request: Request, script: str, queue: str,
               user_vars: list[tuple[str, str]], environ: dict[str, str],
               argv: list[str],
               array: tuple[arrays.IndexRange, str, str | None] | None = None
               ) -> tuple[str, int]:
    """Insert the job (an array: its subjobs too), with its holds and dependencies, in one
    transaction; returns its id and sequence number."""
    variables = _variable_list(ctx, queue, user_vars, environ, _workdir(), "V" in request.flags)
    fx = Effects(ctx.paths, ctx.now)
    with store.transaction(ctx.conn):
        seq = store.next_seq(ctx.conn)
        attrs = _attributes(ctx, request, queue, seq, variables, argv)
        job = Job(seq, "T", 0, attrs, script, changed=ctx.now)
        job.set_holds("u" if "h" in request.flags else "")
        reevaluate(job, ctx.now)
        if array is not None:
            arrays.make_parent(job, *array)
        if request.depend:
            dependencies.register(ctx.conn, job, request.depend, fx)
        model.insert(ctx.conn, job)
        if array is not None:
            arrays.create_subjobs(ctx.conn, job)
        # Before the commit: once committed the server may start the job and log S.
        fx.account("Q", job.jobid, f"queue={queue}")
    return job.jobid, job.seq
