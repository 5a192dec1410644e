#!/usr/bin/env python
"""Django's manage.py; `anchang` (anchang/cli.py) is the same with a few commands of our own."""

from anchang.cli import main

if __name__ == "__main__":
    main()
