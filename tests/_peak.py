"""The peak resident memory of one ``lloyd`` command run in a fresh process (for the tests
that show streamed inputs stay in bounded memory)."""

import os
import subprocess
import sys


def peak_mb_of_command(argv, **env):
    """Run ``lloyd.cli.main(argv)`` in a subprocess (which must exit 0) with ``env`` added to
    the environment; return its peak resident memory in MB.

    VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's peak (Linux carries it
    over fork and exec), and a test process has often just written a large input file.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **env)
    code = (
        "import re\n"
        "from lloyd.cli import main\n"
        f"assert main({list(argv)!r}) == 0\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024
