from humanseg.commands.main import main

main()
