"""``python -m oson_operator`` runs the service, like the ``oson-operator`` console script."""

import sys

from oson_operator.cli import main

sys.exit(main())
