"""Run many tools/ command lines cheaply, each in its own process.

``python fork_tools.py < jobs.json`` imports mmcsre (what makes a fresh
``python tools/X.py`` take seconds) once, then forks one child per job that
runs the tool as ``python TOOL ARGS`` would: ``sys.argv``, the script's folder
first on ``sys.path``, ``__name__ == '__main__'``, stdout and stderr written to
files, an uncaught exception printed as the interpreter prints it (``Traceback
...``) with exit status 1, ``SystemExit`` handled as the interpreter handles
it. Each job is ``{"tool": path, "args": [...], "cwd": dir}``; the answer, on
stdout, is a JSON list of ``{"returncode", "stdout", "stderr"}`` in job order.
"""
import json
import os
import os.path as osp
import runpy
import sys
import time
import traceback

TIMEOUT_S = 120


def _child(job):
    """Run one job in this (forked) process; never returns."""
    code = 1
    try:
        os.chdir(job['cwd'])
        for fd, name in ((1, 'stdout.txt'), (2, 'stderr.txt')):
            out = os.open(
                osp.join(job['cwd'], name), os.O_WRONLY | os.O_CREAT
                | os.O_TRUNC)
            os.dup2(out, fd)
            os.close(out)
        sys.argv = [job['tool']] + list(job['args'])
        sys.path[0] = osp.dirname(osp.abspath(job['tool']))
        try:
            runpy.run_path(job['tool'], run_name='__main__')
            code = 0
        except SystemExit as exit_:
            if exit_.code is None:
                code = 0
            elif isinstance(exit_.code, int):
                code = exit_.code
            else:
                print(exit_.code, file=sys.stderr)
                code = 1
        except BaseException:  # noqa: B902 (as the interpreter does)
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def _run(job):
    """Fork a child for ``job`` and wait for it (killed after TIMEOUT_S)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(job)
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.02)
    result = dict(returncode=os.waitstatus_to_exitcode(status))
    for name in ('stdout', 'stderr'):
        with open(osp.join(job['cwd'], f'{name}.txt')) as f:
            result[name] = f.read()
    return result


def main():
    jobs = json.load(sys.stdin)
    import mmcsre  # noqa: F401  (what every tool imports first)
    print(json.dumps([_run(job) for job in jobs]))


if __name__ == '__main__':
    main()
