from regua.cli import main

main()
