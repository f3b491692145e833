"""``python -m convcalc``: the same command line as the ``convcalc`` script."""

from ._cli import main

main()
