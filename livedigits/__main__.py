import sys

from livedigits.cli.main import main

sys.exit(main())
