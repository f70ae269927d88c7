"""`python -m yukuai_pipeline.cli …`: the `yukuai` command."""

import sys

from yukuai_pipeline.cli import main

sys.exit(main())
