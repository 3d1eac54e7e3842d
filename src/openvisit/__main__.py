from openvisit.cli import main

raise SystemExit(main())
