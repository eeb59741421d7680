from reprobook.cli import main

raise SystemExit(main())
