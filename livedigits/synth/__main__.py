"""``python -m livedigits.synth [OUT_DIR] [--seed N] [--frames N]``: regenerate the samples."""

import sys

from livedigits.synth.samples import main

sys.exit(main())
