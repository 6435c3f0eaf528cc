"""AWS access: the one client factory, error classification and fault hooks."""
