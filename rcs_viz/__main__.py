import sys

from rcs_viz.cli import main

sys.exit(main())
