// Discovery: see its issue.
