"""The ``lloyd`` command's exit codes and the help's epilog that lists them: one source for
``--help``, the sub-commands and the documentation's CLI reference."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit status of the ``lloyd`` command."""

    OK = 0
    #: an unexpected internal error (a bug: please report it)
    INTERNAL_ERROR = 1
    #: the command line was wrong (argparse's own code)
    USAGE_ERROR = 2
    #: an input could not be read or an output could not be written (the other files were done)
    IO_ERROR = 3
    #: an output already existed and --force was not given: it was left alone (others were done)
    OUTPUT_EXISTS = 4
    #: the input is not a table k-means can cluster as asked (lloyd cluster)
    DATA_ERROR = 5
    #: lloyd compress --skip-if-larger: an output would not have been smaller than its input,
    #: so it was not written (pngquant's code)
    NOT_SMALLER = 98
    #: lloyd compress --quality MIN-MAX: an image could not reach MIN, so it was not written
    #: (pngquant's code)
    QUALITY_TOO_LOW = 99
    #: interrupted by the user (Ctrl-C)
    INTERRUPTED = 130


EPILOG = """\
exit codes:
  0    success
  1    internal error (a bug in lloyd: please report it)
  2    usage error (bad arguments)
  3    an input could not be read or an output could not be written
       (lloyd compress: that file was skipped, the others were done)
  4    an output already existed and --force was not given (it was left untouched;
       lloyd compress: the others were done; 3 wins over 4)
  5    lloyd cluster: the input is not a table of numbers k-means can cluster as asked
       (empty, ragged rows, text in a numeric column, NaN, fewer rows than k)
  98   lloyd compress --skip-if-larger: an output was not smaller than its input and was not
       written (the others were done)
  99   lloyd compress --quality: an image stayed below MIN and was not written (the others
       were done; 3, 4, 99 and 98 win in that order)
  130  interrupted (Ctrl-C)
"""
