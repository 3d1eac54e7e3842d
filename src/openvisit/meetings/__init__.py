"""Online meetings: the room of a virtual visit, its join links, lobby, call and attendance."""
