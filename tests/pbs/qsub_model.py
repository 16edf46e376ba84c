"""An independent, line-by-line port of real qsub's `-v` handling, to test against.

OpenPBS `src/cmds/qsub.c`: comma_token, copy_env_value, expand_varlist, set_job_env; the
server's `parse_comma_string_bs` (`src/lib/Libattr/attr_fn_arst.c`). Written apart from
`watcher.pbs.qsub_v` (which the simulator uses) and kept close to the C, pointer for index,
so the property test compares the watcher's encoding with two readings of the same source.
"""

from __future__ import annotations

C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale


class Refused(Exception):
    """qsub: cannot send environment with the job."""


def comma_token(s: str, p: int) -> tuple[str, int] | None:
    if p >= len(s):
        return None
    quote = ""
    i = p
    while i < len(s):
        c = s[i]
        if c in "'\"":
            quote = "" if c == quote else c  # C: `else quote = *p`, even over the other quote
        elif c == "," and not quote:
            return s[p:i], i + 1
        elif c == "\\" and i + 1 < len(s):
            i += 1
        i += 1
    return s[p:], len(s)


def copy_env_value(dest: list[str], pv: str, quote_flg: bool) -> int:
    q = ""
    i = 0
    is_func = pv[:4] == "() {"
    go = True
    while go and i < len(pv):
        c = pv[i]
        if c in "\"'":
            if q and q == c:
                q = ""
            elif q or quote_flg:
                dest += ["\\", c]
            else:
                q = c
        elif c == "\\":
            dest.append(c)
            if i + 1 >= len(pv) or pv[i + 1] != ",":
                dest.append(c)
        elif c == ",":
            if q or quote_flg:
                dest += ["\\", c]
            elif dest and dest[-1] == "\\":  # C: dest_full != dest && *(dest - 1) == ESC_CHAR
                dest.append(c)
            else:
                go = False
        elif c == ";":
            dest.append(c)
            if is_func and pv[i + 1:i + 2] == "\n":
                i += 1
        else:
            dest.append(c)
        i += 1
    if q:
        raise Refused("unterminated quote")
    return i


def expand_varlist(optarg: str, environ: dict[str, str]) -> str:
    out: list[str] = []
    p = 0
    while (r := comma_token(optarg, p)) is not None:
        tok, p = r
        vn, eq, vv = tok.partition("=")
        if not eq and not vn.startswith("PBS_O_"):
            if vn not in environ:
                raise Refused(vn)
            out += [","] if out else []
            out += list(vn + "=")
            copy_env_value(out, environ[vn], True)
        elif eq:
            out += [","] if out else []
            out += list(vn + "=")
            copy_env_value(out, vv, False)
    return "".join(out)


def set_job_env(basic: str, v: str) -> str:
    job = list(basic)
    c = 0
    while c < len(v):
        if v[c] in ",=":
            raise Refused("bad list")
        s = c
        while c < len(v) and v[c] not in ",=":
            c += 1
        if c >= len(v) or v[c] == ",":
            raise Refused("bare name")
        name = v[s:c]
        c += 1
        mark = len(job)
        job += list("," + name + "=")
        c += copy_env_value(job, v[c:], False)
        if name.startswith("PBS_O_"):
            del job[mark:]
    return "".join(job)


def parse_comma_string_bs(s: str) -> list[str]:
    out = []
    pc, n = 0, len(s)
    while True:
        while pc < n and s[pc] in C_SPACE:
            pc += 1
        if pc >= n:
            return out
        dest: list[str] = []
        while pc < n and s[pc] != ",":
            if s[pc] == "\\":
                pc += 1
                if pc >= n:
                    break
                dest += [s[pc]] if s[pc] in "\"',\\" else ["\\", s[pc]]
            else:
                dest.append(s[pc])
            pc += 1
        pc += 1
        out.append("".join(dest).rstrip(C_SPACE))


def qsub_v(optarg: str, environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The job's variables from `qsub -v optarg`, after qsub's own PBS_O_HOME."""
    job = set_job_env("PBS_O_HOME=/h", expand_varlist(optarg, environ or {}))
    entries = [e.partition("=") for e in parse_comma_string_bs(job)]
    return [(name, value) for name, _, value in entries][1:]
