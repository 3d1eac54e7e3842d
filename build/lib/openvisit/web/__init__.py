"""Server-rendered pages for staff and consumers."""
