from collapsekit.cli import main

main()
