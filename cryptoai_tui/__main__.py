import sys

from cryptoai_tui.cli import main

sys.exit(main())
