// Storage helpers.
