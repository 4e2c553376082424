"""`python -m service.cli`: the `tcpr` command where the console script is not installed."""

from service.cli import main

raise SystemExit(main())
