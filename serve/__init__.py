"""newsdesk serving: the console command, the HTTP app and batch scoring, built on :mod:`train`."""
