// ModelRouter: see its issue.
