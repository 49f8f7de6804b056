"""Business checks of a restored database (``oson-operator restore-check``).

* ``expected``: the operations a load generator saw acknowledged, read from its file (pure);
* ``connect``: the read-only connection to the restored database and its error messages;
* ``checks``: the checks themselves, on one read-only snapshot (``run_restore_check``);
* ``command``: the ``restore-check`` subcommand of ``oson-operator``.
"""
