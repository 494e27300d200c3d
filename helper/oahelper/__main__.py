from oahelper.cli import main

raise SystemExit(main())
