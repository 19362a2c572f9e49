from simbench.cli import main

main()
