"""Running the `cls` binary under test, for the CLI test scripts: each sets `cli_run.CLS` from
its command line before its tests run."""
import resource
import subprocess

CLS = ""


def run(*args, expect=0, limit_memory=False):
    """`cls ARGS`, which must exit with `expect`; with `limit_memory`, in 1 GiB of address space
    (a reader that allocated what a header declares would fail)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    proc = subprocess.run([CLS, *map(str, args)], capture_output=True, text=True,
                          preexec_fn=limit if limit_memory else None)
    if proc.returncode != expect:
        raise AssertionError(f"cls {' '.join(map(str, args))} exited {proc.returncode}, "
                             f"expected {expect}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def last_line(text):
    return text.rstrip("\n").split("\n")[-1]
