from maestro_tui.cli import main

raise SystemExit(main())
