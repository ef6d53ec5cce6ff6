"""`python -m bot` is `hedgebot`."""

from bot.cli import main

main()
