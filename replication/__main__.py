"""`python -m replication`: the kit's main job (replication/drivers/demo.py, same options)."""

import sys

from replication.drivers.demo import main

if __name__ == "__main__":
    sys.exit(main())
