from humanseg.cli import main

main()
