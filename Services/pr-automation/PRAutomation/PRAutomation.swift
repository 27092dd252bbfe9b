// PRAutomation: see its issue.
