from oahelper.cli.main import main

raise SystemExit(main())
