"""Pages for consumers: people without an account, reached through links sent to them."""
