from openvisit.cli import run

run()
