"""Staff users, passwords, API tokens with Graph-named scopes, and sign-in sessions."""
